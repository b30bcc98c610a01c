'use strict';
// Runs Step Functions executions for the local stack (internal/localstack) in
// aws-local-stepfunctions. Protocol: one JSON object per line.
//   stdin:  {"op":"start","id","definition","input","context","skipWaits"}
//           {"op":"stop","id"}
//   stdout: {"ready":true} once, then per execution
//           {"id","status":"SUCCEEDED","output"} or
//           {"id","status":"FAILED"|"ABORTED"|"TIMED_OUT","error","cause"}
// Lambda Task states call the Lambda Invoke API at AWS_ENDPOINT_URL_LAMBDA,
// both as plain function ARNs (done by aws-local-stepfunctions) and as the
// arn:aws:states:::lambda:invoke integration (done here, which the library
// does not support).
const readline = require('node:readline');
const {
  StateMachine, ExecutionError, ExecutionAbortedError, ExecutionTimeoutError,
} = require('aws-local-stepfunctions');
const { LambdaClient, InvokeCommand } = require('@aws-sdk/client-lambda');

const LAMBDA_INVOKE = /^arn:aws:states:::lambda:invoke$/;
const running = new Map();
let lambda;

function send(msg) {
  process.stdout.write(`${JSON.stringify(msg)}\n`);
}

// states walks a definition, nested Parallel branches and Map processors included.
function* states(def) {
  for (const [name, state] of Object.entries(def.States || {})) {
    yield [name, state];
    for (const branch of state.Branches || []) yield* states(branch);
    if (state.Iterator) yield* states(state.Iterator);
    if (state.ItemProcessor) yield* states(state.ItemProcessor);
  }
}

// invokeIntegration is the lambda:invoke service integration: its input is
// {FunctionName, Payload, Qualifier?}, its result {ExecutedVersion, Payload,
// StatusCode, ...}; a function error fails the state with the function's
// errorType and the error document as cause, as on AWS.
async function invokeIntegration(input) {
  lambda ??= new LambdaClient({});
  const res = await lambda.send(new InvokeCommand({
    FunctionName: input.FunctionName,
    Qualifier: input.Qualifier,
    Payload: Buffer.from(JSON.stringify(input.Payload === undefined ? {} : input.Payload)),
  }));
  const text = res.Payload ? Buffer.from(res.Payload).toString('utf8') : '';
  const payload = text ? JSON.parse(text) : null;
  if (res.FunctionError) {
    const err = new Error(text);
    err.name = (payload && payload.errorType) || 'Lambda.Unknown';
    throw err;
  }
  return {
    ExecutedVersion: res.ExecutedVersion || '$LATEST',
    Payload: payload,
    SdkHttpMetadata: { HttpStatusCode: res.StatusCode },
    SdkResponseMetadata: { RequestId: res.$metadata.requestId },
    StatusCode: res.StatusCode,
  };
}

function overridesFor(def, skipWaits) {
  const overrides = { taskResourceLocalHandlers: {}, waitTimeOverrides: {}, retryIntervalOverrides: {} };
  for (const [name, state] of states(def)) {
    if (state.Type === 'Task' && LAMBDA_INVOKE.test(state.Resource)) {
      overrides.taskResourceLocalHandlers[name] = invokeIntegration;
    }
    if (skipWaits && state.Type === 'Wait') overrides.waitTimeOverrides[name] = 0;
    if (skipWaits && state.Retry) overrides.retryIntervalOverrides[name] = 0;
  }
  return overrides;
}

// failure maps an execution error to Step Functions' status, error and cause.
function failure(err) {
  if (err instanceof ExecutionAbortedError) return { status: 'ABORTED' };
  if (err instanceof ExecutionTimeoutError) return { status: 'TIMED_OUT', error: 'States.Timeout' };
  if (err instanceof ExecutionError && err.cause) {
    const cause = err.cause;
    // A Lambda function error keeps its error document, as on AWS.
    const doc = cause.cause && typeof cause.cause === 'object' && cause.cause.errorType ? JSON.stringify(cause.cause) : cause.message;
    return { status: 'FAILED', error: cause.name, cause: doc };
  }
  return { status: 'FAILED', error: 'States.Runtime', cause: String((err && err.message) || err) };
}

function start(msg) {
  let execution;
  try {
    const machine = new StateMachine(msg.definition);
    execution = machine.run(msg.input, {
      overrides: overridesFor(msg.definition, msg.skipWaits),
      context: msg.context,
    });
  } catch (err) {
    send({ id: msg.id, status: 'FAILED', error: 'States.Runtime', cause: String(err.message || err) });
    return;
  }
  running.set(msg.id, execution);
  execution.result.then(
    (output) => send({ id: msg.id, status: 'SUCCEEDED', output: output === undefined ? null : output }),
    (err) => send({ id: msg.id, ...failure(err) }),
  ).finally(() => running.delete(msg.id));
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (!line.trim()) return;
  let msg;
  try {
    msg = JSON.parse(line);
  } catch (err) {
    process.stderr.write(`sfn-host: bad message: ${err.message}\n`);
    return;
  }
  if (msg.op === 'start') start(msg);
  else if (msg.op === 'stop') running.get(msg.id)?.abort();
});
rl.on('close', () => {
  for (const execution of running.values()) execution.abort();
  process.exit(0);
});
send({ ready: true });
