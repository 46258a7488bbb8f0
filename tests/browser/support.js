// What the browser tests share: a social_server child process on a loopback port, a TCP proxy that
// can cut a page off the network, and headless Chromium (Debian's, never a downloaded one).
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const defaultServer = fileURLToPath(new URL('../../build/examples/social_server/social_server', import.meta.url));

/** A port free on 127.0.0.1 right now (the kernel's pick). */
export async function freePort() {
    const probe = net.createServer();
    await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address();
    await new Promise((resolve) => probe.close(resolve));
    return port;
}

/** `social_server` (SOCIAL_SERVER, else the build tree's) on 127.0.0.1:`port`, with the development secret. */
export class Server {
    constructor(port) {
        this.port = port;
        this.process = null;
    }

    async start() {
        const program = process.env.SOCIAL_SERVER ?? defaultServer;
        const env = { ...process.env };
        delete env.SWITCHBOARD_JWT_SECRET; // the demo needs the development secret's token route
        const child = spawn(program, ['--bind', '127.0.0.1', '--port', String(this.port)],
            { env, stdio: ['ignore', 'pipe', 'pipe'] });
        this.process = child;
        this.exited = new Promise((resolve) => child.once('exit', resolve));
        await new Promise((resolve, reject) => {
            let output = '';
            const timer = setTimeout(() => reject(new Error(`social_server did not start:\n${output}`)), 15_000);
            child.stdout.on('data', (chunk) => {
                output += chunk;
                if (output.includes('listening on')) {
                    clearTimeout(timer);
                    resolve();
                }
            });
            child.stderr.on('data', (chunk) => { output += chunk; });
            child.once('exit', (code) => reject(new Error(`social_server exited with ${code}:\n${output}`)));
        });
    }

    /** Ends it with `signal` (SIGKILL: a crash, nothing closed properly) and waits until it is gone. */
    async stop(signal = 'SIGTERM') {
        if (!this.process || this.process.exitCode !== null || this.process.signalCode !== null) return;
        this.process.kill(signal);
        await this.exited;
    }
}

/** Forwards 127.0.0.1:<its port> to `target`, until `cut()` drops every connection and refuses new ones. */
export class Proxy {
    constructor(target) {
        this.target = target;
        this.refusing = false;
        this.refused = 0; // connections refused while cut
        this.sockets = new Set();
        this.server = net.createServer((client) => this.#accept(client));
    }

    async listen() {
        await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
        this.port = this.server.address().port;
    }

    #accept(client) {
        if (this.refusing) {
            this.refused += 1;
            return client.destroy();
        }
        const upstream = net.connect(this.target, '127.0.0.1');
        for (const [from, to] of [[client, upstream], [upstream, client]]) {
            this.sockets.add(from);
            from.on('error', () => to.destroy());
            from.on('close', () => { this.sockets.delete(from); to.destroy(); });
            from.pipe(to);
        }
    }

    cut() {
        this.refusing = true;
        for (const socket of this.sockets) socket.destroy();
    }

    restore() {
        this.refusing = false;
    }

    async close() {
        this.cut();
        await new Promise((resolve) => this.server.close(resolve));
    }
}

export function launchBrowser() {
    return chromium.launch({
        executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
        args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
}

/** A page of its own (own cookies, own storage) at `origin`, joined as `name` chatting with `peer`. */
export async function openChat(browser, origin, name, peer) {
    const context = await browser.newContext({ viewport: { width: 900, height: 400 } });
    const page = await context.newPage();
    page.errors = []; // uncaught exceptions of the page's scripts: the tests expect none
    page.on('pageerror', (error) => page.errors.push(error));
    await page.goto(`${origin}/`);
    await page.fill('#name', name);
    await page.fill('#peer', peer);
    await page.click('#join');
    await page.waitForSelector('#state[data-state="open"]');
    await page.waitForSelector('#login', { state: 'hidden', timeout: 1000 }); // the chat replaces it
    return page;
}

/** Waits until the page's `selector` matches exactly `count` elements. */
export function waitForCount(page, selector, count, timeout = 20_000) {
    return page.waitForFunction(([s, n]) => document.querySelectorAll(s).length === n, [selector, count], { timeout });
}

export async function send(page, text) {
    await page.fill('#text', text);
    await page.click('#send');
}

export function texts(page, selector) {
    return page.$$eval(selector, (items) => items.map((item) => item.querySelector('.text').textContent));
}

/** Polls `condition` until it holds; fails after `timeout` ms. */
export async function until(condition, timeout = 20_000) {
    for (const deadline = Date.now() + timeout; !condition();) {
        if (Date.now() > deadline) throw new Error(`not within ${timeout} ms: ${condition}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
}

/** As the browser does when the network comes back: the client dials at once instead of waiting out its delay. */
export function networkBack(page) {
    return page.evaluate(() => window.dispatchEvent(new Event('online')));
}
