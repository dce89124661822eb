// The ceiling: a bare Bun.serve answering a small JSON body, no framework, no upstream.
// Usage: bun bench/hello.ts [port] (default 50160).
const port = Number(process.argv[2] ?? 50160);
const body = JSON.stringify({ text: "hello", n: "42" });
const headers = { "content-type": "application/json" };
const server = Bun.serve({ port, hostname: "127.0.0.1", fetch: () => new Response(body, { headers }) });
console.log(`hello listening on 127.0.0.1:${server.port}`);
