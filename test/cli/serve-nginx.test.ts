/**
 * `keyward serve` behind a real nginx (Debian's nginx-light has
 * auth_request): the auth_request recipe of docs/serve.md, run by nginx as
 * the test user with a temporary prefix, in front of a tiny upstream (a Node
 * http server here that records what reaches it). Clients come from
 * different loopback addresses (127.x.y.z, bound on this machine's lo), so
 * nginx's $remote_addr is the real client address it hands keyward in
 * X-Real-IP. The five checks of the issue: an allowed key and address
 * reaches the upstream, a denied one gets 403, a learning-phase caller's /24
 * is in the store after the commit, a blocked caller is in `keyward blocked`
 * and runs the notify command, and `keyward authorize` in another process
 * takes effect without restarting serve.
 */
import {ChildProcess, spawn} from 'node:child_process';
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {expect} from 'chai';
import {RunResult, Workspace} from './harness.js';
import {findTool, skipBecause} from './real-tools.js';
import {serve, stop, waitFor, waitForAsync, WAIT_MS} from './serve-helpers.js';

const RECORDER = fileURLToPath(new URL('../fixtures/notify-recorder.sh', import.meta.url));

function ok(result: RunResult): RunResult {
  expect(result.code, `exit ${result.code}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`).to.equal(0);
  return result;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const {port} = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The nginx configuration of docs/serve.md ("nginx auth_request"), with this test's ports and folders. */
export function nginxConf(prefix: string, listen: number, keyward: number, upstream: number): string {
  const user = process.getuid?.() === 0 ? `user ${os.userInfo().username};\n` : '';
  return `${user}worker_processes 1;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy; fastcgi_temp_path ${prefix}/fcgi; uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;

  upstream keyward {
    server 127.0.0.1:${keyward};
    keepalive 16;
  }

  server {
    listen 127.0.0.1:${listen};

    location / {
      auth_request /_keyward;
      # What keyward decided, for the application and the access log.
      auth_request_set $keyward_key $upstream_http_keyward_key;
      auth_request_set $keyward_reason $upstream_http_keyward_reason;
      proxy_set_header X-Keyward-Key $keyward_key;
      proxy_set_header X-Keyward-Reason $keyward_reason;
      proxy_pass http://127.0.0.1:${upstream};
    }

    location = /_keyward {
      internal;
      proxy_pass http://keyward/decide;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      # The original client: keyward reads it because the connection comes from a --trust-proxy address.
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Original-URI $request_uri;
    }
  }
}
`;
}

interface Reached {
  url: string;
  key: string | undefined;
  reason: string | undefined;
  apiKey: string | undefined;
}

describe('keyward serve behind a real nginx (auth_request)', function () {
  this.timeout(120_000);
  let nginx: ChildProcess | null = null;
  let app: http.Server | null = null;

  afterEach(async () => {
    nginx?.kill('SIGQUIT');
    if (nginx) await new Promise((resolve) => (nginx!.exitCode !== null ? resolve(null) : nginx!.on('close', resolve)));
    nginx = null;
    await new Promise((resolve) => (app ? app.close(resolve) : resolve(null)));
    app = null;
  });

  it('lets an allowed key and address through, answers 403 to a denied one, learns, blocks with a notification, and follows keyward authorize', async function () {
    const nginxBin = findTool('nginx');
    if (nginxBin === null) skipBecause(this, 'nginx is not installed (apt-get install nginx-light)');
    const ws = Workspace.create();
    const secret = ok(ws.run(['keys', 'create', 'billing', '--type', 'api', '--json'])).json().secret as string;
    const out = path.join(ws.dir, 'notified.ndjson');

    // The upstream: records every request that reaches it.
    const reached: Reached[] = [];
    app = http.createServer((req, res) => {
      reached.push({
        url: req.url!,
        key: req.headers['x-keyward-key'] as string,
        reason: req.headers['x-keyward-reason'] as string,
        apiKey: req.headers['x-api-key'] as string,
      });
      res.end('hello from the app\n');
    });
    await new Promise<void>((resolve) => app!.listen(0, '127.0.0.1', resolve));
    const appPort = (app.address() as net.AddressInfo).port;

    const s = await serve(ws, ['--trust-proxy', '127.0.0.1', '--commit-every', '200ms', '--notify-command', `sh ${RECORDER} ${out}`]);
    try {
      const prefix = path.join(ws.dir, 'nginx');
      mkdirSync(path.join(prefix, 'logs'), {recursive: true});
      const port = await freePort();
      const conf = path.join(prefix, 'nginx.conf');
      writeFileSync(conf, nginxConf(prefix, port, s.port, appPort));
      let nginxErr = '';
      nginx = spawn(nginxBin!, ['-p', prefix, '-c', conf, '-g', `daemon off; pid ${prefix}/nginx.pid; error_log stderr;`], {stdio: ['ignore', 'ignore', 'pipe']});
      nginx.stderr!.setEncoding('utf8').on('data', (t: string) => (nginxErr += t));
      const log = () => `--- nginx ---\n${nginxErr}\n--- serve ---\n${s.stderr()}`;

      /** A request to nginx from a loopback address of our choice. */
      const get = (from: string, key: string | null, url = '/orders') =>
        new Promise<{status: number; body: string}>((resolve, reject) => {
          const req = http.request({host: '127.0.0.1', port, path: url, localAddress: from, headers: key === null ? {} : {'X-Api-Key': key}, agent: false}, (res) => {
            let body = '';
            res.setEncoding('utf8').on('data', (t: string) => (body += t));
            res.on('end', () => resolve({status: res.statusCode!, body}));
          });
          req.on('error', reject);
          req.end();
        });
      await waitForAsync('nginx to answer', async () => (await get('127.0.0.1', 'billing', '/ready')).status === 200, WAIT_MS, log);

      // 1. Learning: the caller reaches the app, and its /24 is learned at the next commit.
      const first = await get('127.1.2.3', `Bearer ${secret}`, '/learning');
      expect(first.status, log()).to.equal(200);
      expect(first.body).to.equal('hello from the app\n');
      expect(reached.at(-1)).to.deep.include({url: '/learning', key: 'billing', reason: 'learning'});
      await waitFor(
        '127.1.2.0/24 learned',
        () => ws.storeJson().account.some((e: {entry: string; source: string}) => e.entry === '127.1.2.0/24' && e.source === 'learned'),
        WAIT_MS,
        log,
      );

      // Blocking on, from another process: serve reads the change.
      ok(ws.run(['activate', '--api', '--force']));
      await waitForAsync('blocking to take effect', async () => (await get('127.9.9.9', 'billing', '/probe')).status === 403, WAIT_MS, log);

      // 2. Allowed key and address: reaches the app, which is told the key's name (never the secret from the decision).
      const before = reached.length;
      const allowed = await get('127.1.2.77', secret, '/allowed');
      expect(allowed.status).to.equal(200);
      expect(reached.slice(before)).to.deep.equal([{url: '/allowed', key: 'billing', reason: 'authorized', apiKey: secret}]);

      // 3. Denied: 403 from nginx, nothing reaches the app.
      const count = reached.length;
      const denied = await get('127.7.7.7', 'billing', '/denied');
      expect(denied.status).to.equal(403);
      expect(reached.length).to.equal(count);
      const unknown = await get('127.1.2.77', 'nobody', '/unknown');
      expect(unknown.status).to.equal(403);
      // No key: keyward's 400 is an error to auth_request, which nginx answers 500; still nothing reaches the app.
      expect((await get('127.1.2.77', null, '/nokey')).status).to.equal(500);
      expect(reached.length).to.equal(count);

      // 4. The denied caller is on the blocked list after the commit, and the notify command ran for it.
      await waitFor(
        '127.7.7.7 blocked',
        () =>
          ok(ws.run(['blocked', '--json']))
            .json()
            .some((b: {ip: string}) => b.ip === '127.7.7.7'),
        WAIT_MS,
        log,
      );
      await waitFor('the notification', () => existsSync(out) && readFileSync(out, 'utf8').includes('"127.7.7.7"'), WAIT_MS, log);
      expect(
        JSON.parse(
          readFileSync(out, 'utf8')
            .trim()
            .split('\n')
            .find((l) => l.includes('127.7.7.7'))!,
        ),
      ).to.deep.include({event: 'blocked', key: 'billing', channel: 'api'});

      // 5. keyward authorize in another process: the same caller gets through without a restart.
      ok(ws.run(['authorize', '127.7.7.0/24', '--label', 'new office']));
      await waitForAsync('the authorization to take effect', async () => (await get('127.7.7.7', 'billing', '/after')).status === 200, WAIT_MS, log);
      expect(reached.at(-1)).to.deep.include({url: '/after', key: 'billing', reason: 'authorized'});
      expect(
        ok(ws.run(['blocked', '--json']))
          .json()
          .map((b: {ip: string}) => b.ip),
      ).not.to.include('127.7.7.7');

      const done = await stop(s);
      expect(`${done.stdout}${done.stderr}${nginxErr}`).not.to.contain(secret);
      // The one error nginx logs is the 400 of the request without a key.
      expect(
        nginxErr.split('\n').filter((l) => /\[(error|crit|alert|emerg)\]/.test(l) && !l.includes('auth request unexpected status: 400')),
        nginxErr,
      ).to.deep.equal([]);
    } finally {
      s.child.kill('SIGKILL');
    }
  });
});
