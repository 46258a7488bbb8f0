// permessage-deflate interop: Chromium (Debian's, driven by npm playwright-core; never a browser download)
// against a Switchboard server. Chromium offers "permessage-deflate; client_max_window_bits" and compresses
// every message. Sends messages of several sizes from a page, expects each echoed (the echo server).
//     node deflate_chromium.mjs ws://127.0.0.1:PORT/
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const url = process.argv[2];
const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
try {
    const page = await browser.newPage();
    const result = await page.evaluate(async (url) => {
        const ws = new WebSocket(url);
        await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = () => reject(new Error('no connection')); });
        const mismatches = [];
        for (const size of [1, 100, 300, 5000, 200000]) {
            const sent = JSON.stringify({ type: 'message.sent', data: { content: 'hello '.repeat(size / 6) } })
                .padEnd(size, ' ').slice(0, size);
            const echoed = new Promise((resolve) => { ws.onmessage = (event) => resolve(event.data); });
            ws.send(sent);
            if (await echoed !== sent) mismatches.push(size);
        }
        ws.close(1000);
        return { extensions: ws.extensions, mismatches };
    }, url);
    assert.equal(result.extensions, 'permessage-deflate; server_no_context_takeover; client_no_context_takeover');
    assert.deepEqual(result.mismatches, []);
    console.log(`chromium ${browser.version()}: ok (extensions '${result.extensions}')`);
} finally {
    await browser.close();
}
