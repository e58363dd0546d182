// check.js — offline check of the Tencent SCF project in infra/tencent: one
// `scf` instance folder per function, each on the Go1 runtime with the binary
// infra/package.sh built, the shared environment, and its API gateway routes
// or timer. Run from the repo root by infra/sls-check.sh (which installs the
// js-yaml it borrows from Serverless Framework v3). Exits 1 listing failures.
'use strict';

const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '../..');
const yaml = require(path.join(root, '.cache/serverless/node_modules/js-yaml'));
const load = (file) => yaml.load(fs.readFileSync(file, 'utf8'));

// Function → timeout (s) and its API gateway routes; expiry-sweep has a timer.
const functions = {
  'mp-login': { timeout: 6, routes: ['POST /mp-login'] },
  'member-api': { timeout: 10, routes: ['ANY /member-api'] },
  'oa-callback': { timeout: 5, routes: ['GET /oa-callback', 'POST /oa-callback'] },
  'wecom-callback': { timeout: 5, routes: ['GET /wecom-callback', 'POST /wecom-callback'] },
  'invite-redeem': { timeout: 6, routes: ['POST /invite-redeem'] },
  'pay-notify': { timeout: 5, routes: ['POST /pay-notify'] },
  'expiry-sweep': { timeout: 300, routes: [] },
  'admin-api': { timeout: 29, routes: ['ANY /admin-api'] },
};
// The settings shared/config reads, each passed through from the deploying
// shell under the same name.
const settings = [
  'WEMEMBER_LOG_LEVEL', 'WEMEMBER_SESSION_SECRET', 'WEMEMBER_DATA_KEY', 'WEMEMBER_MP_APPID',
  'WEMEMBER_MP_SECRET', 'WEMEMBER_MP_REMINDER_TEMPLATE', 'WEMEMBER_ADMIN_TOKEN', 'WEMEMBER_OA_APPID', 'WEMEMBER_OA_SECRET',
  'WEMEMBER_OA_TOKEN', 'WEMEMBER_OA_AES_KEY', 'WEMEMBER_REGISTER_URL', 'WEMEMBER_OA_REGISTER_URL', 'WEMEMBER_WECOM_CORPID',
  'WEMEMBER_WECOM_SECRET', 'WEMEMBER_WECOM_TOKEN', 'WEMEMBER_WECOM_AES_KEY',
];
const aws = ['AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];

const failures = [];
const same = (got, want, what) => {
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    failures.push(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  }
};

const dir = __dirname;
const parent = load(path.join(dir, 'serverless.yml'));
same(parent.app, 'wemember', 'parent app');
same(parent.component, undefined, 'parent component (must be absent so the folders deploy as one app)');

const folders = fs.readdirSync(dir).filter((f) => fs.existsSync(path.join(dir, f, 'serverless.yml'))).sort();
same(folders, Object.keys(functions).sort(), 'function folders');

for (const [fn, want] of Object.entries(functions)) {
  const file = path.join(dir, fn, 'serverless.yml');
  if (!fs.existsSync(file)) continue;
  const c = load(file);
  const i = c.inputs || {};
  same(c.component, 'scf', `${fn} component`);
  same(c.name, fn, `${fn} instance name`);
  same(c.app, undefined, `${fn} app (inherited from the parent)`);
  same(i.name, `wemember-\${stage}-${fn}`, `${fn} function name`);
  same(i.runtime, 'Go1', `${fn} runtime`);
  same(i.handler, 'main', `${fn} handler`);
  same(i.timeout, want.timeout, `${fn} timeout`);

  const src = path.resolve(dir, fn, String(i.src));
  same(path.relative(root, src), `dist/tencent/${fn}`, `${fn} src`);
  const bin = path.join(src, 'main');
  if (!fs.existsSync(bin) || (fs.statSync(bin).mode & 0o111) === 0) {
    failures.push(`${fn}: ${path.relative(root, bin)} missing or not executable (run infra/package.sh)`);
  }
  if (!fs.existsSync(`${src}.zip`)) failures.push(`${fn}: ${path.relative(root, src)}.zip missing`);

  const vars = ((i.environment || {}).variables) || {};
  same(vars.WEMEMBER_STORE, 'dynamo:wemember-${stage}', `${fn} WEMEMBER_STORE`);
  same(Object.keys(vars).sort(), ['WEMEMBER_STORE', ...aws, ...settings].sort(), `${fn} environment names`);
  for (const name of settings) same(vars[name], `\${env:${name}}`, `${fn} ${name}`);
  for (const name of aws) same(vars[name], `\${env:WEMEMBER_SCF_${name}}`, `${fn} ${name}`);

  const events = i.events || [];
  const gw = events.filter((e) => e.apigw).map((e) => e.apigw.parameters);
  const timers = events.filter((e) => e.timer).map((e) => e.timer.parameters);
  const routes = gw.flatMap((p) => p.endpoints.map((e) => `${e.method} ${e.path}`));
  same(routes, want.routes, `${fn} routes`);
  for (const p of gw) {
    same(p.serviceId, '${env:WEMEMBER_APIGW_SERVICE_ID}', `${fn} API gateway service`);
    for (const e of p.endpoints) {
      same(e.serviceTimeout, want.timeout, `${fn} ${e.method} ${e.path} gateway timeout`);
      same((e.function || {}).isIntegratedResponse, true, `${fn} ${e.method} ${e.path} integrated response`);
      same(e.isBase64Encoded, true, `${fn} ${e.method} ${e.path} base64 body (byte-exact for signatures)`);
    }
  }
  if (fn === 'expiry-sweep') {
    same(timers.map((t) => [t.cronExpression, t.enable]), [['0 */15 * * * * *', true]], `${fn} timer`);
  } else {
    same(timers.length, 0, `${fn} timers`);
  }
}

if (failures.length) {
  console.error(`tencent check: ${failures.length} failure(s)`);
  for (const f of failures) console.error(`  - ${f}`);
  process.exit(1);
}
console.log(`tencent check: ok — ${folders.length} scf instances in app ${parent.app}`);
