import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { HttpAnswerParser } from './http-answer-parser.js';
import { httpCall } from './http-call.js';

/** A real node:http server answering with `handle`; counts the TCP connections it accepted. */
async function serve(handle: (req: IncomingMessage, body: string, res: ServerResponse) => void) {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, Buffer.concat(chunks).toString('utf8'), res));
  });
  let connections = 0;
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    connections: () => connections,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('httpCall over a kept-alive connection', () => {
  test('five calls share one connection; bodies, paths and statuses come through', async () => {
    const seen: string[] = [];
    const s = await serve((req, body, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers['content-type'] ?? '-'} ${body}`);
      res.writeHead(req.url === '/bad' ? 400 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: req.url !== '/bad', echo: body }));
    });
    try {
      const answers = [];
      for (const path of ['/a', '/b?x=1', '/c']) answers.push(await httpCall(s.url(path), 'POST', '{"n":"é"}', 5000));
      answers.push(await httpCall(s.url('/bad'), 'POST', '{}', 5000));
      answers.push(await httpCall(s.url('/data'), 'GET', undefined, 5000));
      assert.deepEqual(
        answers.map((a) => a.status),
        [200, 200, 200, 400, 200],
      );
      assert.deepEqual(JSON.parse(answers[0]?.text ?? ''), { ok: true, echo: '{"n":"é"}' });
      assert.deepEqual(seen, [
        'POST /a application/json {"n":"é"}',
        'POST /b?x=1 application/json {"n":"é"}',
        'POST /c application/json {"n":"é"}',
        'POST /bad application/json {}',
        'GET /data - ',
      ]);
      assert.equal(s.connections(), 1);
    } finally {
      await s.close();
    }
  });

  test('calls made together are answered in order, one at a time', async () => {
    let inFlight = 0;
    let most = 0;
    const s = await serve((req, _body, res) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      setTimeout(() => {
        inFlight -= 1;
        res.end(req.url);
      }, 5);
    });
    try {
      const answers = await Promise.all(['/1', '/2', '/3', '/4'].map((p) => httpCall(s.url(p), 'POST', '{}', 5000)));
      assert.deepEqual(
        answers.map((a) => a.text),
        ['/1', '/2', '/3', '/4'],
      );
      assert.equal(most, 1);
    } finally {
      await s.close();
    }
  });

  test('a connection the server closed while idle is replaced, and the call goes through', async () => {
    // a raw server that answers one request per connection and closes it 20 ms later, unasked
    let connections = 0;
    const closing = createTcpServer((socket) => {
      connections += 1;
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\n{"ok":true}');
        setTimeout(() => socket.end(), 20);
      });
    });
    await new Promise<void>((resolve) => closing.listen(0, '127.0.0.1', () => resolve()));
    const { port } = closing.address() as AddressInfo;
    try {
      assert.equal((await httpCall(`http://127.0.0.1:${port}/one`, 'POST', '{}', 5000)).status, 200);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal((await httpCall(`http://127.0.0.1:${port}/two`, 'POST', '{}', 5000)).status, 200);
      assert.equal(connections, 2);
    } finally {
      await new Promise((resolve) => closing.close(resolve));
    }
  });

  test('a reused connection dropped as the call was sent: sent once more on a new one', async () => {
    // the first connection answers one request, then drops the socket on the next without a byte
    let connections = 0;
    const requests: string[] = [];
    const open: Socket[] = [];
    const dropping = createTcpServer((socket) => {
      open.push(socket);
      const connection = ++connections;
      let served = 0;
      socket.on('data', (chunk: Buffer) => {
        requests.push(`${connection}:${chunk.toString('latin1').split(' ')[1] ?? ''}`);
        if (connection === 1 && ++served === 2) socket.destroy();
        else socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      });
    });
    await new Promise<void>((resolve) => dropping.listen(0, '127.0.0.1', () => resolve()));
    const { port } = dropping.address() as AddressInfo;
    try {
      assert.equal((await httpCall(`http://127.0.0.1:${port}/a`, 'POST', '{}', 5000)).text, 'ok');
      assert.equal((await httpCall(`http://127.0.0.1:${port}/b`, 'POST', '{}', 5000)).text, 'ok');
      assert.deepEqual(requests, ['1:/a', '1:/b', '2:/b']);
    } finally {
      for (const socket of open) socket.destroy();
      await new Promise((resolve) => dropping.close(resolve));
    }
  });

  test('chunked answers and "connection: close" answers are read whole', async () => {
    const s = await serve((req, _body, res) => {
      if (req.url === '/close') res.setHeader('connection', 'close');
      res.write('{"part":1,');
      setTimeout(() => res.end('"rest":"x"}'), 5);
    });
    try {
      const chunked = await httpCall(s.url('/chunked'), 'GET', undefined, 5000);
      assert.deepEqual(JSON.parse(chunked.text), { part: 1, rest: 'x' });
      const closing = await httpCall(s.url('/close'), 'GET', undefined, 5000);
      assert.deepEqual(JSON.parse(closing.text), { part: 1, rest: 'x' });
      assert.equal((await httpCall(s.url('/after'), 'GET', undefined, 5000)).status, 200);
      assert.equal(s.connections(), 2, 'a new connection after the server said close');
    } finally {
      await s.close();
    }
  });

  test('a server that never answers: rejected after the timeout', async () => {
    const sockets: Socket[] = [];
    const silent = createTcpServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    const { port } = silent.address() as AddressInfo;
    try {
      await assert.rejects(httpCall(`http://127.0.0.1:${port}/x`, 'POST', '{}', 100), /no answer within 100 ms/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test('a refused connection rejects with the network error', async () => {
    const silent = createTcpServer();
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    const { port } = silent.address() as AddressInfo;
    await new Promise((resolve) => silent.close(resolve));
    await assert.rejects(httpCall(`http://127.0.0.1:${port}/x`, 'POST', '{}', 1000), /ECONNREFUSED/);
  });

  test('the idle connection never keeps a component process alive', async () => {
    const s = await serve((_req, _body, res) => res.end('{"ok":true}'));
    try {
      const script = `import { httpCall } from ${JSON.stringify(new URL('./http-call.js', import.meta.url).href)};
        const a = await httpCall(${JSON.stringify(s.url('/x'))}, 'POST', '{}', 5000);
        process.stdout.write(String(a.status));`;
      // the server keeps the connection open for 5 s: the child must exit well before it lets go
      s.server.keepAliveTimeout = 60_000;
      // not spawnSync: the server answering lives in this process's event loop
      const child = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        {
          encoding: 'utf8',
          timeout: 30_000,
        },
      );
      assert.equal(child.stdout, '200', child.stderr);
    } finally {
      await s.close();
    }
  });
});

describe('HttpAnswerParser', () => {
  const parse = (...parts: string[]) => {
    const parser = new HttpAnswerParser(1024);
    let answer;
    for (const part of parts) answer = parser.push(Buffer.from(part, 'latin1')) ?? answer;
    return answer ?? parser.end();
  };

  test('content-length, split anywhere', () => {
    assert.deepEqual(parse('HTTP/1.1 201 Created\r\nContent-Le', 'ngth: 4\r\n\r\nab', 'cd'), {
      status: 201,
      close: false,
      text: 'abcd',
    });
  });

  test('chunked with extensions and trailers, split anywhere', () => {
    assert.deepEqual(
      parse(
        'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3;x=y\r\nab',
        'c\r\n2\r\nde\r\n0\r\nT: 1\r\n',
        '\r\n',
      ),
      { status: 200, close: false, text: 'abcde' },
    );
  });

  test('a 100 Continue before the answer is skipped; no length means read to the end', () => {
    assert.deepEqual(parse('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\nall', ' of it'), {
      status: 200,
      close: true,
      text: 'all of it',
    });
  });

  test('garbage and answers over the size guard are errors', () => {
    assert.throws(() => parse('SMTP ready\r\n\r\n'), /malformed answer/);
    assert.throws(() => parse(`HTTP/1.1 200 OK\r\ncontent-length: 2000\r\n\r\n${'x'.repeat(1100)}`), /larger than/);
    assert.throws(() => parse('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n'), /malformed chunked/);
  });
});
