#!/usr/bin/env node
// End-to-end JSON-RPC scenario through VS Code's own JSON-RPC library (vscode-jsonrpc, LSP
// Content-Length framing): an entry and a return probe on fib in /bin/fib, `/bin/fib 15`, exactly
// 1973 + 1973 hits with every sequence number, no events.lost, return values matching fib.
//
//   node fib_trace.js --port PORT [--n 15]
'use strict';

const net = require('net');
const rpc = require('vscode-jsonrpc/node');

function arg(name, fallback) {
    const i = process.argv.indexOf(name);
    return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const port = Number(arg('--port', '4242'));
const n = Number(arg('--n', '15'));
const calls = (k) => (k < 2 ? 1 : 1 + calls(k - 1) + calls(k - 2));
const fib = (k) => {
    let a = 0n, b = 1n;
    for (let i = 0; i < k; i++) [a, b] = [b, a + b];
    return a;
};
const expected = calls(n);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
    });
    const connection = rpc.createMessageConnection(new rpc.SocketMessageReader(socket),
                                                   new rpc.SocketMessageWriter(socket));
    const hits = [];
    const lost = [];
    let exited = null;
    let pid = null;
    connection.onNotification('probe.hit', (h) => hits.push(h));
    connection.onNotification('events.lost', (l) => lost.push(l));
    connection.onNotification('process.exit', (e) => {
        if (e.pid === pid) exited = e;
    });
    connection.listen();

    const deadline = Date.now() + 60000;
    while (!(await connection.sendRequest('target.status')).connected) {
        if (Date.now() > deadline) throw new Error('the target never connected');
        await sleep(200);
    }
    await connection.sendRequest('events.subscribe',
                                 {kinds: ['probe.hit', 'events.lost', 'process.exit']});
    const entry = await connection.sendRequest('probe.add',
                                               {program: '/bin/fib', symbol: 'fib', kind: 'entry'});
    const ret = await connection.sendRequest('probe.add',
                                             {program: '/bin/fib', symbol: 'fib', kind: 'return'});
    // An error comes back as a ResponseError with the daemon's code and data.
    try {
        await connection.sendRequest('probe.add', {program: '/bin/fib', symbol: 'no_such_fn'});
        throw new Error('probe.add of an unknown symbol succeeded');
    } catch (e) {
        if (!(e instanceof rpc.ResponseError) || e.code !== -32011) throw e;
    }
    pid = (await connection.sendRequest('process.spawn', {argv: ['/bin/fib', String(n)]})).pid;

    const mine = () => hits.filter((h) => h.pid === pid);
    while (Date.now() < deadline) {
        const m = mine();
        if (exited && m.filter((h) => h.probe === entry.id).length >= expected &&
            m.filter((h) => h.probe === ret.id).length >= expected)
            break;
        await sleep(50);
    }
    await sleep(200); // anything extra (there must be nothing) arrives now

    const failures = [];
    const m = mine().sort((a, b) => a.seq - b.seq);
    const entries = m.filter((h) => h.probe === entry.id);
    const returns = m.filter((h) => h.probe === ret.id);
    if (!exited || exited.status !== 0) failures.push(`fib did not exit cleanly: ${JSON.stringify(exited)}`);
    if (entries.length !== expected || returns.length !== expected)
        failures.push(`hits: ${entries.length} entry, ${returns.length} return, expected ${expected}`);
    if (lost.length) failures.push(`events.lost sent: ${JSON.stringify(lost)}`);
    for (let i = 1; i < m.length; i++) {
        if (m[i].seq !== m[i - 1].seq + 1) {
            failures.push(`sequence gap ${m[i - 1].seq} -> ${m[i].seq}`);
            break;
        }
    }
    const stacks = new Map();
    let bad = 0;
    for (const h of m) {
        if (!stacks.has(h.tid)) stacks.set(h.tid, []);
        const stack = stacks.get(h.tid);
        if (h.probe === entry.id) {
            stack.push(Number(BigInt(h.args[0])));
        } else if (!stack.length || h.ret === undefined || BigInt(h.ret) !== fib(stack.pop())) {
            bad++;
        }
    }
    if (bad) failures.push(`${bad} return values do not match fib`);

    await connection.sendRequest('probe.remove', {id: entry.id});
    await connection.sendRequest('probe.remove', {id: ret.id});
    connection.dispose();
    socket.end();

    if (failures.length) {
        console.log('fib_trace.js: FAIL: ' + failures.join('; '));
        return 1;
    }
    console.log(`fib_trace.js: ok: ${entries.length} entry + ${returns.length} return hits, ` +
                `seq ${m[0].seq}..${m[m.length - 1].seq} complete, return values match fib ` +
                '(vscode-jsonrpc, Content-Length framing)');
    return 0;
}

main().then((code) => process.exit(code), (err) => {
    console.log('fib_trace.js: FAIL: ' + (err && err.stack ? err.stack : err));
    process.exit(1);
});
