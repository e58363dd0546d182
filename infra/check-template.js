// check-template.js PACKAGE_DIR — assert that the CloudFormation template
// `serverless package` wrote into PACKAGE_DIR is the wemember stack: the
// eight functions with their runtime, artifacts and timeouts, the HTTP API
// routes, the sweep schedule, the table and a least-privilege role.
// Run by infra/sls-check.sh; exits 1 listing every failed expectation.
'use strict';

const fs = require('fs');
const path = require('path');

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node infra/check-template.js PACKAGE_DIR');
  process.exit(2);
}
const readJSON = (name) => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
const template = readJSON('cloudformation-template-update-stack.json');
const state = readJSON('serverless-state.json');
const resources = template.Resources || {};
const service = state.service.service;
const stage = state.service.provider.stage;

// The settings shared/config reads (besides WEMEMBER_STORE), all passed in.
const settings = [
  'WEMEMBER_LOG_LEVEL', 'WEMEMBER_SESSION_SECRET', 'WEMEMBER_DATA_KEY', 'WEMEMBER_MP_APPID',
  'WEMEMBER_MP_SECRET', 'WEMEMBER_MP_REMINDER_TEMPLATE', 'WEMEMBER_ADMIN_TOKEN', 'WEMEMBER_OA_APPID', 'WEMEMBER_OA_SECRET',
  'WEMEMBER_OA_TOKEN', 'WEMEMBER_OA_AES_KEY', 'WEMEMBER_REGISTER_URL', 'WEMEMBER_OA_REGISTER_URL', 'WEMEMBER_WECOM_CORPID',
  'WEMEMBER_WECOM_SECRET', 'WEMEMBER_WECOM_TOKEN', 'WEMEMBER_WECOM_AES_KEY',
];

const failures = [];
const expect = (ok, what) => {
  if (!ok) failures.push(what);
};
const same = (got, want, what) =>
  expect(JSON.stringify(got) === JSON.stringify(want), `${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
const ofType = (type) => Object.entries(resources).filter(([, r]) => r.Type === type);

// Functions: name → timeout (seconds) and the routes that reach it.
const functions = {
  'mp-login': { timeout: 6, routes: ['POST /mp-login'] },
  'member-api': { timeout: 10, routes: ['ANY /member-api/{proxy+}'] },
  'oa-callback': { timeout: 5, routes: ['GET /oa-callback', 'POST /oa-callback'] },
  'wecom-callback': { timeout: 5, routes: ['GET /wecom-callback', 'POST /wecom-callback'] },
  'invite-redeem': { timeout: 6, routes: ['POST /invite-redeem'] },
  'pay-notify': { timeout: 5, routes: ['POST /pay-notify'] },
  'expiry-sweep': { timeout: 300, routes: [] },
  'admin-api': { timeout: 29, routes: ['ANY /admin-api/{proxy+}'] },
};

// The table.
const tables = ofType('AWS::DynamoDB::Table');
same(tables.length, 1, 'DynamoDB tables');
const [tableId, table] = tables[0] || [];
const tableName = `${service}-${stage}`;
if (table) {
  const p = table.Properties;
  same(p.TableName, tableName, 'table name');
  same(p.BillingMode, 'PAY_PER_REQUEST', 'table billing mode');
  same(p.KeySchema, [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }], 'table key schema');
  same(p.AttributeDefinitions, [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }], 'table attributes');
  same(p.TimeToLiveSpecification, { AttributeName: 'ttl', Enabled: true }, 'table TTL');
  same(p.PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: true }, 'table point-in-time recovery');
  same(p.SSESpecification, { SSEEnabled: true }, 'table encryption');
  same(p.GlobalSecondaryIndexes, undefined, 'table global secondary indexes');
  same(p.LocalSecondaryIndexes, undefined, 'table local secondary indexes');
  same(table.DeletionPolicy, 'Retain', 'table deletion policy');
}

// The functions and their artifacts.
const lambdas = Object.fromEntries(ofType('AWS::Lambda::Function').map(([id, r]) => [r.Properties.FunctionName, id]));
same(Object.keys(lambdas).sort(), Object.keys(functions).map((f) => `${service}-${stage}-${f}`).sort(), 'Lambda functions');
const idOf = {};
for (const [fn, want] of Object.entries(functions)) {
  const id = lambdas[`${service}-${stage}-${fn}`];
  if (!id) continue;
  idOf[fn] = id;
  const p = resources[id].Properties;
  same(p.Runtime, 'provided.al2023', `${fn} runtime`);
  same(p.Architectures, ['arm64'], `${fn} architecture`);
  same(p.Handler, 'bootstrap', `${fn} handler`);
  same(p.Timeout, want.timeout, `${fn} timeout`);
  same(p.Environment.Variables.WEMEMBER_STORE, `dynamo:${tableName}`, `${fn} WEMEMBER_STORE`);
  same(Object.keys(p.Environment.Variables).sort(), ['WEMEMBER_STORE', ...settings].sort(), `${fn} environment names`);
  expect(String(p.Code.S3Key).endsWith(`/${fn}.zip`), `${fn} code key ${p.Code.S3Key} does not end in /${fn}.zip`);
  const artifact = ((state.service.functions[fn] || {}).package || {}).artifact;
  same(artifact, `dist/aws/${fn}.zip`, `${fn} artifact`);
  expect(artifact && fs.existsSync(artifact), `${fn} artifact ${artifact} missing (run infra/package.sh first)`);
}

// HTTP API routes, each to its own function's integration.
same(ofType('AWS::ApiGatewayV2::Api').length, 1, 'HTTP APIs');
const integrationFn = {};
for (const [id, r] of ofType('AWS::ApiGatewayV2::Integration')) {
  const uri = r.Properties.IntegrationUri;
  integrationFn[id] = uri && uri['Fn::GetAtt'] ? uri['Fn::GetAtt'][0] : undefined;
  same(r.Properties.PayloadFormatVersion, '2.0', `integration ${id} payload format`);
}
const gotRoutes = {};
for (const [, r] of ofType('AWS::ApiGatewayV2::Route')) {
  const target = r.Properties.Target;
  const integration = target && target['Fn::Join'] ? target['Fn::Join'][1][1].Ref : undefined;
  gotRoutes[r.Properties.RouteKey] = integrationFn[integration];
}
const wantRoutes = {};
for (const [fn, want] of Object.entries(functions)) for (const route of want.routes) wantRoutes[route] = idOf[fn];
same(Object.keys(gotRoutes).sort(), Object.keys(wantRoutes).sort(), 'HTTP API routes');
for (const [route, id] of Object.entries(wantRoutes)) same(gotRoutes[route], id, `route ${route} target`);

// Access logs: one log group per function, kept 180 days.
const logGroups = ofType('AWS::Logs::LogGroup');
same(logGroups.length, Object.keys(functions).length, 'log groups');
for (const [id, g] of logGroups) same(g.Properties.RetentionInDays, 180, `log group ${id} retention (days)`);

// The schedule.
const rules = ofType('AWS::Events::Rule');
same(rules.length, 1, 'schedules');
if (rules[0]) {
  const p = rules[0][1].Properties;
  same(p.ScheduleExpression, 'rate(15 minutes)', 'sweep schedule');
  same(p.State, 'ENABLED', 'sweep schedule state');
  same((p.Targets || []).map((t) => t.Arn['Fn::GetAtt'][0]), [idOf['expiry-sweep']], 'sweep schedule targets');
}

// Least privilege: besides the framework's log statements, only the store's
// item calls, only on the table.
const roles = ofType('AWS::IAM::Role');
same(roles.length, 1, 'IAM roles');
const statements = roles.flatMap(([, r]) => r.Properties.Policies.flatMap((p) => p.PolicyDocument.Statement));
for (const s of statements) {
  const actions = [].concat(s.Action);
  if (actions.every((a) => a.startsWith('logs:'))) {
    const resources = JSON.stringify(s.Resource);
    expect(resources.includes(`log-group:/aws/lambda/${service}-${stage}`), `log statement not scoped to the service's log groups: ${resources}`);
    continue;
  }
  same(s.Effect, 'Allow', 'IAM statement effect');
  same(actions.slice().sort(), ['dynamodb:ConditionCheckItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem',
    'dynamodb:Query', 'dynamodb:TransactWriteItems', 'dynamodb:UpdateItem'], 'IAM DynamoDB actions');
  same(s.Resource, [{ 'Fn::GetAtt': [tableId, 'Arn'] }], 'IAM DynamoDB resources');
}
expect(statements.some((s) => [].concat(s.Action).includes('dynamodb:TransactWriteItems')), 'no DynamoDB statement in the role');

if (failures.length) {
  console.error(`template check: ${failures.length} failure(s)`);
  for (const f of failures) console.error(`  - ${f}`);
  process.exit(1);
}
console.log(`template check: ok — ${Object.keys(lambdas).length} functions, ${Object.keys(gotRoutes).length} routes, ` +
  `schedule rate(15 minutes), table ${tableName}, ${Object.keys(resources).length} resources`);
