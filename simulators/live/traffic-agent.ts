// The cluster's services on the live wire: a small program the runner starts inside a
// node's namespace (`ip netns exec … node traffic-agent.js …`), because a process enters a
// network namespace only at start.
//   serve <ip> <port,port,…>   listen; per connection read until the client half-closes,
//                              answer as many bytes, close. Prints "ready" when listening.
//   client <json>              {src, seed, connectTimeoutMs, ioTimeoutMs, flows:[{id,dst,port,bytes}]}:
//                              one TCP conversation per flow; prints one JSON result line each.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { CONCURRENCY, pattern, type AgentClientSpec, type AgentFlow, type AgentFlowResult } from './traffic-protocol.js';

function serve(ip: string, ports: number[]): void {
  const servers: Server[] = [];
  let listening = 0;
  for (const port of ports) {
    const server = createServer((socket: Socket) => {
      let count = 0;
      socket.on('data', (d: Buffer) => {
        count += d.length;
      });
      socket.on('end', () => socket.end(pattern(count, port)));
      socket.on('error', () => socket.destroy());
    });
    server.on('error', (err) => {
      process.stderr.write(`listen ${ip}:${port}: ${err.message}\n`);
      process.exit(1);
    });
    server.listen({ host: ip, port }, () => {
      if (++listening === ports.length) process.stdout.write('ready\n');
    });
    servers.push(server);
  }
  const stop = () => {
    for (const s of servers) s.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

function converse(spec: AgentClientSpec, flow: AgentFlow): Promise<AgentFlowResult> {
  return new Promise((resolvePromise) => {
    const payload = pattern(flow.bytes, spec.seed * 1000 + flow.id);
    let received = 0;
    let connected = false;
    let failure: string | undefined;
    const socket = connect({ host: flow.dst, port: flow.port, localAddress: spec.src });
    const timer = setTimeout(() => {
      failure = connected ? `no answer within ${spec.ioTimeoutMs} ms` : `connect timed out after ${spec.connectTimeoutMs} ms`;
      socket.destroy();
    }, spec.connectTimeoutMs);
    socket.on('connect', () => {
      connected = true;
      clearTimeout(timer);
      const io = setTimeout(() => {
        failure = `no answer within ${spec.ioTimeoutMs} ms`;
        socket.destroy();
      }, spec.ioTimeoutMs);
      socket.once('close', () => clearTimeout(io));
      socket.end(payload);
    });
    socket.on('data', (d: Buffer) => {
      received += d.length;
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      failure ??= err.code ?? err.message;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (!failure && received !== flow.bytes) failure = `answer was ${received} bytes, expected ${flow.bytes}`;
      resolvePromise({ id: flow.id, ok: failure === undefined, sent: connected ? flow.bytes : 0, received, ...(failure ? { error: failure } : {}) });
    });
  });
}

async function clients(spec: AgentClientSpec): Promise<void> {
  // Up to CONCURRENCY at a time, so connections that hang on a dropping peer overlap.
  const queue = [...spec.flows];
  const worker = async () => {
    for (let f = queue.shift(); f; f = queue.shift()) process.stdout.write(`${JSON.stringify(await converse(spec, f))}\n`);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

const [command, ...args] = process.argv.slice(2);
if (command === 'serve') {
  serve(args[0] ?? '', (args[1] ?? '').split(',').filter(Boolean).map(Number));
} else if (command === 'client') {
  clients(JSON.parse(args[0] ?? '{}') as AgentClientSpec).then(
    () => process.exit(0),
    (err: Error) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    },
  );
} else if (command !== undefined) {
  process.stderr.write(`traffic-agent: unknown command ${command}\n`);
  process.exit(2);
}
