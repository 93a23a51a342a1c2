// `keyward serve` under load: decisions per second and latency (wrk, keep-alive, 64
// connections) on a 100k-entry store, against nginx answering the same question from
// a static allow/deny include exported by keyward (`keyward export --format nginx`),
// in the same run; then serve's resident memory sampled over a run with learning on
// (callers from a pool of 20,000 addresses named in X-Real-IP, committed every second).
//
//   node bench/serve.js                     # alone (needs npm run build)
//   SERVE_SECONDS=10 SERVE_RSS_SECONDS=600 node bench/serve.js   # the 10-minute memory run
//
// bench/run.js calls benchServe() at its end. wrk and nginx are Debian packages; a missing
// one is said and its part skipped. The machine's load is printed before and after: on a
// shared machine the figures are a floor, and decisions per CPU-second of serve say more.
import {spawn, spawnSync, execFileSync} from 'node:child_process';
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {makeEntries} from './data.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(root, 'bin', 'run.js');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function findTool(name) {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin']) {
    const file = path.join(dir, name);
    if (dir !== '' && existsSync(file)) return file;
  }
  return null;
}

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** utime + stime of a process, in seconds (Linux). */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const rssMiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

/** wrk's figures: requests/s, p50 and p99 in ms, non-2xx/3xx answers, errors. */
function parseWrk(out) {
  const ms = (text) => {
    const m = /([\d.]+)(us|ms|s)/.exec(text);
    // Rounded to the microsecond wrk reports in (820us * 0.001 is 0.8200000000000001 in floating point).
    return m ? Math.round(Number(m[1]) * (m[2] === 'us' ? 1 : m[2] === 's' ? 1e6 : 1000)) / 1000 : Number.NaN;
  };
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN),
    p50: ms(/\n\s+50%\s+(\S+)/.exec(out)?.[1] ?? ''),
    p99: ms(/\n\s+99%\s+(\S+)/.exec(out)?.[1] ?? ''),
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0),
    errors: /Socket errors:[^\n]*/.exec(out)?.[0] ?? '',
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
  };
}

function wrk(wrkBin, url, {seconds, headers = [], script = null, connections = 64, threads = 1}) {
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--latency', '--timeout', '5s'];
  for (const h of headers) args.push('-H', h);
  if (script) args.push('-s', script);
  args.push(url);
  const r = spawnSync(wrkBin, args, {encoding: 'utf8'});
  return {...parseWrk(r.stdout), out: r.stdout + r.stderr};
}

/** Starts `keyward serve`; resolves when it says where it listens. */
function startServe(env, args) {
  const child = spawn(process.execPath, [BIN, 'serve', '--listen', '127.0.0.1:0', ...args], {env, stdio: ['ignore', 'pipe', 'pipe']});
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (t) => (stderr += t));
  child.stdout.resume();
  const exited = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${stderr}`)), 60_000);
    const look = setInterval(() => {
      const m = /listening on (http:\/\/[^ ]+)/.exec(stderr);
      if (m) {
        clearInterval(look);
        clearTimeout(timer);
        resolve({child, url: m[1], exited, stderr: () => stderr});
      }
    }, 20);
    child.on('close', () => {
      clearInterval(look);
      clearTimeout(timer);
      reject(new Error(`serve exited:\n${stderr}`));
    });
  });
}

/** nginx answering 204/403 from keyward's export, as a gateway without an outside service would. */
function startNginx(nginxBin, dir, include) {
  const prefix = path.join(dir, 'nginx');
  mkdirSync(path.join(prefix, 'logs'), {recursive: true});
  writeFileSync(
    path.join(prefix, 'nginx.conf'),
    `worker_processes 1;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy; fastcgi_temp_path ${prefix}/fcgi; uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:0;
    location / {
      include ${include};
      deny all;
      error_page 403 = @denied;
      return 204;
    }
    location @denied { return 403; }
  }
}
`,
  );
  return prefix;
}

export async function benchServe({
  log = (m) => process.stderr.write(`${m}\n`),
  seconds = Number(process.env.SERVE_SECONDS ?? 10),
  rssSeconds = Number(process.env.SERVE_RSS_SECONDS ?? 60),
} = {}) {
  const wrkBin = findTool('wrk');
  if (wrkBin === null) {
    log('serve: wrk is not installed (apt-get install wrk): the serve benchmark is skipped');
    return [];
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'keyward-bench-serve-'));
  const store = path.join(dir, 'store.json');
  const env = {...process.env, KEYWARD_STORE: store, NO_COLOR: '1'};
  delete env.KEYWARD_NOW;
  const kw = (...args) => execFileSync(process.execPath, [BIN, ...args], {env, stdio: ['ignore', 'pipe', 'pipe']});
  const entries = makeEntries(100_000);
  writeFileSync(path.join(dir, 'entries.txt'), `${entries.join('\n')}\n`);
  kw('authorize', '--file', path.join(dir, 'entries.txt'));
  // (serve takes a key's secret, not its name, unless --key-names: the requests carry the secret, as clients send it.)
  const secret = JSON.parse(kw('keys', 'create', 'bench', '--type', 'api', '--json').toString()).secret;
  // The callers of the throughput runs (127.0.0.1) are authorized: the answer is an allow, from a 100k-entry list.
  kw('authorize', '127.0.0.0/24');
  const rows = [];
  log(`serve: load before: ${loadavg()} (2 cores shared: figures are a floor; decisions per CPU-second of serve are given too)`);

  // 1. keyward serve, keep-alive, 64 connections, learning on (API keys learning: each decision is an event, committed every 5 s).
  const serve = await startServe(env, []);
  wrk(wrkBin, `${serve.url}/auth`, {seconds: 2, headers: [`X-Api-Key: ${secret}`]});
  const cpu0 = cpuSeconds(serve.child.pid);
  const k = wrk(wrkBin, `${serve.url}/auth`, {seconds, headers: [`X-Api-Key: ${secret}`]});
  const cpu = cpuSeconds(serve.child.pid) - cpu0;
  log(
    `serve: keyward serve: ${k.rps.toFixed(0)} decisions/s, p50 ${k.p50} ms, p99 ${k.p99} ms, ${k.non2xx} non-2xx, ${(k.requests / cpu).toFixed(0)} decisions per CPU-second of serve ${k.errors}`,
  );
  rows.push({name: 'keyward serve, 64 keep-alive connections, 100k entries', ...k, cpuPerDecisionUs: (cpu / k.requests) * 1e6});
  serve.child.kill('SIGTERM');
  const code = await serve.exited;
  if (code !== 0) log(`serve: keyward serve exited ${code} after SIGTERM:\n${serve.stderr()}`);

  // 2. nginx from the static include exported by keyward, same store, same load.
  const nginxBin = findTool('nginx');
  if (nginxBin === null) log('serve: nginx is not installed: no comparison with a static include');
  else {
    const include = path.join(dir, 'keyward-allow.conf');
    kw('export', '--format', 'nginx', '--output', include);
    const prefix = startNginx(nginxBin, dir, include);
    // Port 0 is not nginx's: find a free one first.
    const port = await new Promise((resolve) => {
      import('node:net').then(({createServer}) => {
        const s = createServer().listen(0, '127.0.0.1', () => {
          const p = s.address().port;
          s.close(() => resolve(p));
        });
      });
    });
    const conf = path.join(prefix, 'nginx.conf');
    writeFileSync(conf, readFileSync(conf, 'utf8').replace('127.0.0.1:0', `127.0.0.1:${port}`));
    const nginx = spawn(nginxBin, ['-p', prefix, '-c', conf, '-g', `daemon off; pid ${prefix}/nginx.pid; error_log stderr;`], {stdio: ['ignore', 'ignore', 'pipe']});
    let nginxErr = '';
    nginx.stderr.setEncoding('utf8').on('data', (t) => (nginxErr += t));
    await sleep(1500);
    wrk(wrkBin, `http://127.0.0.1:${port}/`, {seconds: 2});
    const n = wrk(wrkBin, `http://127.0.0.1:${port}/`, {seconds});
    log(
      `serve: nginx, static include of ${entries.length} entries: ${n.rps.toFixed(0)} answers/s, p50 ${n.p50} ms, p99 ${n.p99} ms, ${n.non2xx} non-2xx ${n.errors}${n.rps ? '' : `\n${n.out}\n${nginxErr}`}`,
    );
    rows.push({name: 'nginx allow/deny include (keyward export --format nginx), same load', ...n});
    nginx.kill('SIGQUIT');
    await new Promise((resolve) => nginx.on('close', resolve));
  }

  // 3. Memory over a run with learning on: many callers (X-Real-IP from a trusted 127.0.0.1), commits every second.
  const script = path.join(dir, 'callers.lua');
  writeFileSync(
    script,
    `local n = 0
request = function()
  n = n + 1
  local i = n % 20000
  return wrk.format(nil, "/auth", {["X-Api-Key"] = "${secret}", ["X-Real-IP"] = "198." .. (18 + i % 2) .. "." .. (math.floor(i / 10) % 256) .. "." .. (1 + i % 200)})
end
`,
  );
  const learner = await startServe(env, ['--trust-proxy', '127.0.0.1', '--commit-every', '1s']);
  const samples = [];
  const run = new Promise((resolve) => {
    const child = spawn(wrkBin, ['-t', '1', '-c', '64', '-d', `${rssSeconds}s`, '--latency', '-s', script, `${learner.url}/auth`], {stdio: ['ignore', 'pipe', 'pipe']});
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (t) => (out += t));
    child.on('close', () => resolve(out));
  });
  const every = Math.max(1, Math.floor(rssSeconds / 12));
  for (let t = 0; t < rssSeconds; t += every) {
    await sleep(every * 1000);
    samples.push(rssMiB(learner.child.pid));
  }
  const learned = parseWrk(await run);
  learner.child.kill('SIGTERM');
  const learnerCode = await learner.exited;
  const learnedEntries = JSON.parse(execFileSync(process.execPath, [BIN, 'status', '--json'], {env}).toString()).counts;
  log(
    `serve: learning on, ${rssSeconds} s: ${learned.rps.toFixed(0)} decisions/s, p99 ${learned.p99} ms; RSS MiB every ${every} s: ${samples.map((s) => s.toFixed(0)).join(' ')}; exit ${learnerCode}; store counts ${JSON.stringify(learnedEntries)}`,
  );
  rows.push({name: `keyward serve, learning on, ${rssSeconds} s`, ...learned, rss: samples});
  log(`serve: load after: ${loadavg()}`);
  rmSync(dir, {recursive: true, force: true});
  return rows;
}

/** Runs benchServe and prints its rows and the verdict on stdout. */
export async function printServeBench(log) {
  const rows = await benchServe(log ? {log} : {});
  for (const r of rows) {
    const figures = `${r.rps.toFixed(0)}/s, p50 ${r.p50} ms, p99 ${r.p99} ms`;
    console.log(`${r.name}: ${figures}${r.rss ? `, RSS ${r.rss.map((s) => s.toFixed(0)).join(' ')} MiB` : ''}`);
  }
  const k = rows[0];
  if (k) console.log(`keyward serve: target >= 25,000 decisions/s and p99 <= 5 ms: ${k.rps >= 25_000 && k.p99 <= 5 ? 'met' : 'NOT met'} (this run; load ${loadavg()})`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await printServeBench();
