// Parameter types shared by the steps: node lists and addresses as people write them.
import { defineParameterType } from '@cucumber/cucumber';

defineParameterType({
  name: 'address',
  regexp: /[0-9a-fA-F:.]*[0-9a-fA-F]/,
  transformer: (s: string) => s,
});

defineParameterType({
  name: 'nodeList',
  // "10.0.0.1, 10.0.0.2 and 10.0.0.3"
  regexp: /[0-9a-fA-F:.]+(?:(?:, | and )[0-9a-fA-F:.]+)*/,
  transformer: (s: string) => s.split(/, | and /).map((x) => x.trim()),
});
