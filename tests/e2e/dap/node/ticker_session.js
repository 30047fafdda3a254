// A VS Code debug session without VS Code: Eclipse CDT's gdb debug adapter (npm cdt-gdb-adapter,
// the adapter of the "CDT GDB Debug Adapter" extension) driven over the Debug Adapter Protocol by
// @vscode/debugadapter-testsupport, attached to ruprobesd's --spawn process (/bin/ticker) with
// the "gdbtarget" configuration of docs/vscode/launch.json (only the port and the build folder
// are replaced). Checks a breakpoint, three stops, the stack, variables, evaluate, next/stepIn/
// stepOut, pause and disconnect; prints "ticker_session.js: ok" at the end, exits 1 on the first
// failure.
//
// node ticker_session.js --launch-json FILE --workspace DIR --guest-dir DIR --port PORT
//                        [--adapter-log FILE]
'use strict';

const path = require('path');
const { DebugClient } = require('@vscode/debugadapter-testsupport');

function option(name, fallback) {
    const at = process.argv.indexOf(name);
    if (at >= 0 && at + 1 < process.argv.length) return process.argv[at + 1];
    if (fallback === undefined) throw new Error(`missing ${name}`);
    return fallback;
}

const fs = require('fs');
const port = option('--port');
const launchJson = option('--launch-json');
const workspace = option('--workspace');
const guestDir = option('--guest-dir');
const adapterLog = option('--adapter-log', '');
const timeoutMs = 30000;

// fib() in ticker.c: its first line and the line of its two recursive calls.
const fibFirstLine = 7;
const fibCallLine = 10;

function check(condition, what, detail) {
    if (!condition) throw new Error(`${what}${detail === undefined ? '' : ': ' + JSON.stringify(detail)}`);
    console.log(`ticker_session.js: ${what}`);
}

async function frames(dc, threadId) {
    const r = await dc.stackTraceRequest({ threadId, startFrame: 0, levels: 20 });
    return r.body.stackFrames;
}

async function evaluate(dc, expression, frameId) {
    const r = await dc.evaluateRequest({ expression, frameId, context: 'watch' });
    return r.body.result;
}

async function localValue(dc, frameId, name) {
    const scopes = (await dc.scopesRequest({ frameId })).body.scopes;
    for (const scope of scopes) {
        const vars = (await dc.variablesRequest({ variablesReference: scope.variablesReference })).body.variables;
        const v = vars.find((x) => x.name === name);
        if (v) return v.value;
    }
    return undefined;
}

// Sends a request and waits for the stopped event it leads to (listening before sending).
async function untilStopped(dc, send) {
    const stopped = dc.waitForEvent('stopped', timeoutMs);
    await send();
    return (await stopped).body;
}

// The attach arguments of launch.json's gdbtarget configuration, as VS Code would pass them here.
function attachArguments() {
    const doc = JSON.parse(fs.readFileSync(launchJson, 'utf8'));
    const config = doc.configurations.find((c) => c.type === 'gdbtarget');
    if (!config) throw new Error(`no gdbtarget configuration in ${launchJson}`);
    if (config.request !== 'attach') throw new Error(`request ${config.request}, not attach`);
    let text = JSON.stringify(config);
    text = text.split('${workspaceFolder}/build/guest').join(guestDir);
    text = text.split('${workspaceFolder}').join(workspace);
    const args = JSON.parse(text);
    delete args.name;
    delete args.type;
    delete args.request;
    const [host] = args.target.parameters[0].split(':');
    args.target.parameters[0] = `${host}:${port}`;
    if (!fs.existsSync(args.program)) throw new Error(`no program ${args.program}`);
    return args;
}

async function main() {
    const adapter = path.join(__dirname, 'node_modules', 'cdt-gdb-adapter', 'dist', 'debugTargetAdapter.js');
    const dc = new DebugClient('node', adapter, 'gdbtarget', undefined, true);
    dc.defaultTimeout = timeoutMs;
    await dc.start();
    const output = [];
    dc.on('output', (e) => output.push(e.body.output));
    try {
        await dc.initializeRequest({ adapterID: 'gdbtarget', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
        const initialized = dc.waitForEvent('initialized', timeoutMs);
        const attach = attachArguments();
        console.log(`ticker_session.js: attach ${JSON.stringify(attach)}`);
        if (adapterLog) Object.assign(attach, { verbose: true, logFile: adapterLog });
        await dc.attachRequest(attach);
        await initialized;

        // A function breakpoint: a source breakpoint needs the path gdb has in the debug info,
        // which is the build's (a host cache may hand out objects compiled in another checkout).
        const bp = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'fib' }] });
        check(bp.body.breakpoints.length === 1 && bp.body.breakpoints[0].verified, 'breakpoint on fib verified', bp.body);

        // Three stops: tick(0), tick(1) and tick(2) call fib(0), fib(1), fib(2).
        let stop = await untilStopped(dc, () => dc.configurationDoneRequest());
        const threadId = stop.threadId;
        for (let n = 0; n < 3; n++) {
            if (n > 0) stop = await untilStopped(dc, () => dc.continueRequest({ threadId }));
            check(stop.reason === 'function breakpoint', `stop ${n + 1}: reason function breakpoint`, stop);
            const f = await frames(dc, threadId);
            check(f[0].name.startsWith('fib') && f[0].line === fibFirstLine, `stop ${n + 1}: in fib at line ${fibFirstLine}`, f[0]);
            check((await localValue(dc, f[0].id, 'n')) === String(n), `stop ${n + 1}: variable n = ${n}`);
            check((await evaluate(dc, 'n', f[0].id)) === String(n), `stop ${n + 1}: evaluate n = ${n}`);
        }
        let f = await frames(dc, threadId);
        check(f.length >= 3 && f[1].name.startsWith('tick') && f[2].name.startsWith('main'), 'stack fib, tick, main', f.map((x) => x.name));
        check((await evaluate(dc, 'n * 10 + 1', f[0].id)) === '21', 'evaluate n * 10 + 1 = 21');
        check((await evaluate(dc, 'count', f[2].id)) === '300', 'evaluate count = 300 in main\'s frame');

        const none = await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
        check(none.body.breakpoints.length === 0, 'breakpoints removed');

        stop = await untilStopped(dc, () => dc.nextRequest({ threadId }));
        f = await frames(dc, threadId);
        check(stop.reason === 'step' && f[0].line === fibCallLine, `next: line ${fibCallLine}`, { stop, frame: f[0] });

        stop = await untilStopped(dc, () => dc.stepInRequest({ threadId }));
        f = await frames(dc, threadId);
        const inner = await evaluate(dc, 'n', f[0].id);
        check(f[0].name.startsWith('fib') && f[1].name.startsWith('fib') && (inner === '1' || inner === '0'),
            'stepIn: into fib(1) or fib(0) from fib(2)', { inner, frames: f.map((x) => `${x.name}:${x.line}`) });

        stop = await untilStopped(dc, () => dc.stepOutRequest({ threadId }));
        f = await frames(dc, threadId);
        check(f[0].name.startsWith('fib') && f[0].line === fibCallLine && (await evaluate(dc, 'n', f[0].id)) === '2' &&
            f[1].name.startsWith('tick'), 'stepOut: back in fib(2)', f.map((x) => `${x.name}:${x.line}`));

        const continued = await dc.continueRequest({ threadId });
        check(continued.success, 'continue');
        stop = await untilStopped(dc, () => dc.pauseRequest({ threadId }));
        f = await frames(dc, threadId);
        check(f.some((x) => x.name.startsWith('main')), `pause: stopped (${stop.reason}) with main on the stack`, f.map((x) => x.name));

        // As VS Code's Disconnect: the request, then the adapter process ends. The test around
        // this script checks in ruprobesd that the process ran on.
        const disconnected = await dc.disconnectRequest({});
        check(disconnected.success, 'disconnect');
        // cdt-gdb-adapter: gdb's `disconnect` (the connection closes, no detach or kill packet:
        // ruprobesd then detaches), then -gdb-exit.
        check(output.some((o) => o.startsWith('gdb exited')), 'gdb exited', output.slice(-5));
    } finally {
        await dc.stop().catch(() => {});
    }
    console.log('ticker_session.js: ok');
}

main().then(
    () => process.exit(0),
    (e) => {
        console.error(`ticker_session.js: FAILED: ${e && e.stack ? e.stack : e}`);
        process.exit(1);
    },
);
