// A TCP relay on loopback that misbehaves on purpose, standing in for the network between the
// gateway and its backends:
// - idleDropMs: a NAT that forgets a flow after that long without a byte either way. Like a real NAT
//   it does not close anything: later bytes are silently discarded (both sockets stay open).
// - establishMs: each new connection reaches the backend only after this long (a slow proxy,
//   handshake or accept loop); with serial, establishments happen one at a time (a backend that
//   accepts slowly), so a burst of connects queues up.
// - several targets: an L4 load balancer (a virtual IP) picking a backend per new connection, round robin.
import net from "node:net";

export interface Target {
  readonly host: string;
  readonly port: number;
}

export interface RelayOptions {
  readonly targets: readonly Target[];
  readonly host?: string;
  readonly idleDropMs?: number;
  readonly establishMs?: number;
  readonly serial?: boolean;
}

export interface RelayStats {
  accepted: number;
  established: number;
  /** Flows the "NAT" forgot. */
  dropped: number;
  /** Connections per target "host:port". */
  perTarget: Record<string, number>;
}

export interface Relay {
  readonly host: string;
  readonly port: number;
  readonly address: string;
  readonly stats: RelayStats;
  /** Replace the backends behind the "virtual IP"; existing flows stay where they are. */
  setTargets(targets: readonly Target[]): void;
  /** Flows currently open. */
  readonly open: number;
  close(): Promise<void>;
}

export async function startRelay(o: RelayOptions): Promise<Relay> {
  let targets = [...o.targets];
  let rr = 0;
  let chain: Promise<void> = Promise.resolve();
  const stats: RelayStats = { accepted: 0, established: 0, dropped: 0, perTarget: {} };
  const sockets = new Set<net.Socket>();
  let open = 0;

  const server = net.createServer((client) => {
    stats.accepted++;
    open++;
    sockets.add(client);
    client.pause();
    let upstream: net.Socket | undefined;
    let dead = false;
    let last = Date.now();
    let sweep: ReturnType<typeof setInterval> | undefined;
    const closeBoth = () => {
      if (sweep) clearInterval(sweep);
      if (!client.destroyed) client.destroy();
      if (upstream && !upstream.destroyed) upstream.destroy();
    };
    client.on("error", closeBoth);
    client.on("close", () => {
      open--;
      sockets.delete(client);
      closeBoth();
    });
    const target = targets[rr++ % targets.length]!;
    const establish = async () => {
      if (client.destroyed) return; // the caller gave up while queued
      if (o.establishMs) await new Promise((r) => setTimeout(r, o.establishMs));
      if (client.destroyed) return;
      upstream = net.connect(target.port, target.host);
      sockets.add(upstream);
      await new Promise<void>((resolve) => {
        upstream!.once("connect", () => resolve());
        upstream!.once("error", () => resolve());
      });
    };
    const ready = o.serial ? (chain = chain.then(establish)) : establish();
    void ready.then(() => {
      const up = upstream;
      if (!up || up.destroyed || client.destroyed) return closeBoth();
      stats.established++;
      const key = `${target.host}:${target.port}`;
      stats.perTarget[key] = (stats.perTarget[key] ?? 0) + 1;
      up.on("error", closeBoth);
      up.on("close", () => {
        sockets.delete(up);
        closeBoth();
      });
      const forward = (to: net.Socket) => (chunk: Buffer) => {
        if (dead) return; // a forgotten flow: bytes vanish
        last = Date.now();
        to.write(chunk);
      };
      client.on("data", forward(up));
      up.on("data", forward(client));
      client.resume();
      if (o.idleDropMs) {
        const idle = o.idleDropMs;
        sweep = setInterval(() => {
          if (!dead && Date.now() - last >= idle) {
            dead = true;
            stats.dropped++;
            clearInterval(sweep);
          }
        }, Math.max(10, Math.floor(idle / 10)));
      }
    });
  });
  const host = o.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    host,
    port,
    address: `${host}:${port}`,
    stats,
    get open() {
      return open;
    },
    setTargets: (t) => {
      targets = [...t];
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
