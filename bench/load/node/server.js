// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// The Node.js baseline of the side-by-side benchmark: the example server's protocol (README.md,
// "Wire protocol") on npm's `ws` 8.x, written the way its documentation suggests (serialize once,
// `client.send(text)` per recipient). Tokens: HS256 JWTs checked with node's crypto, like
// Switchboard's JwtAuthenticator (pinned algorithm, exp with 30 s leeway, sub a UUID). The example
// server's `POST /api/publish` too, for its broadcast form only (`{"broadcast":true,"event":{...}}`,
// admin bearer token), sent as a client's Broadcast would be.
//
//   node server.js --port N --jwt-secret S [--bind 127.0.0.1] [--presence all|none]

'use strict';

const crypto = require('node:crypto');
const http = require('node:http');
const { WebSocketServer } = require('ws');

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const LEEWAY_SECONDS = 30;

function parseArguments(argv) {
    const options = { bind: '127.0.0.1', port: 8080, secret: '', presence: 'all' };
    for (let i = 0; i < argv.length; i += 2) {
        const [name, value] = [argv[i], argv[i + 1]];
        if (value === undefined) throw new Error(`${name} needs a value`);
        if (name === '--port') options.port = Number(value);
        else if (name === '--bind') options.bind = value;
        else if (name === '--jwt-secret') options.secret = value;
        else if (name === '--presence') options.presence = value;
        else throw new Error(`unknown argument ${name}`);
    }
    if (!options.secret) throw new Error('--jwt-secret is required');
    return options;
}

function decodePart(part) {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

/** The identity in a valid HS256 token ({user, admin}), or null. */
function verifyToken(token, secret) {
    const parts = typeof token === 'string' ? token.split('.') : [];
    if (parts.length !== 3) return null;
    try {
        if (decodePart(parts[0]).alg !== 'HS256') return null;
        const expected = crypto.createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
        const given = Buffer.from(parts[2], 'base64url');
        if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return null;
        const claims = decodePart(parts[1]);
        const now = Date.now() / 1000;
        if (!Number.isInteger(claims.exp) || claims.exp + LEEWAY_SECONDS < now) return null;
        if (typeof claims.sub !== 'string' || !UUID.test(claims.sub)) return null;
        return { user: claims.sub.toLowerCase(), admin: claims.admin === true };
    } catch {
        return null;
    }
}

function event(type, data) {
    return JSON.stringify({ type, data });
}

class BaselineServer {
    constructor(options) {
        this.options = options;
        this.users = new Map(); // user id -> Set of sockets
        this.wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
        this.http = http.createServer((request, response) => this.answerHttp(request, response));
        this.http.on('upgrade', (request, socket, head) => this.upgrade(request, socket, head));
    }

    listen() {
        this.http.listen(this.options.port, this.options.bind, () => {
            console.log(`listening on ws://${this.options.bind}:${this.options.port}/ws`);
        });
    }

    /** `POST /api/publish` `{"broadcast":true,"event":{"type":..,"data":..}}` -> `{"delivered":n}`. */
    answerHttp(request, response) {
        const reply = (status, body) => {
            response.writeHead(status, { 'Content-Type': 'application/json' });
            response.end(JSON.stringify(body));
        };
        const path = new URL(request.url, 'http://localhost').pathname;
        if (path !== '/api/publish') return reply(404, { error: 'not_found' });
        if (request.method !== 'POST') return reply(405, { error: 'use POST' });
        const authorization = request.headers.authorization || '';
        const token = authorization.startsWith('Bearer ') ? authorization.slice(7) : null;
        const identity = verifyToken(token, this.options.secret);
        if (!identity) return reply(401, { error: 'unauthorized' });
        if (!identity.admin) return reply(403, { error: 'forbidden' });
        const chunks = [];
        request.on('data', (chunk) => chunks.push(chunk));
        request.on('end', () => {
            let body;
            try {
                body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
                return reply(400, { error: 'invalid_json' });
            }
            const published = body && body.broadcast === true ? body.event : null;
            if (!published || typeof published.type !== 'string') {
                return reply(400, { error: 'bad_request', reason: 'this baseline publishes to everyone only' });
            }
            const data = published.data === undefined ? {} : published.data;
            reply(200, { delivered: this.sendToAll(event(published.type, data)) });
        });
    }

    upgrade(request, socket, head) {
        const url = new URL(request.url, 'http://localhost');
        const identity = url.pathname === '/ws' ? verifyToken(url.searchParams.get('token'), this.options.secret) : null;
        if (!identity) {
            const status = url.pathname === '/ws' ? '401 Unauthorized' : '404 Not Found';
            socket.end(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
            return;
        }
        this.wss.handleUpgrade(request, socket, head, (ws) => this.opened(ws, identity));
    }

    opened(ws, identity) {
        let sockets = this.users.get(identity.user);
        const first = !sockets;
        if (first) this.users.set(identity.user, (sockets = new Set()));
        sockets.add(ws);
        ws.on('message', (data, isBinary) => this.received(ws, identity, data, isBinary));
        ws.on('close', () => this.closed(ws, identity));
        ws.on('error', () => {}); // a reset peer: 'close' follows
        if (first && this.options.presence === 'all') this.sendToAll(event('UserOnline', { user_id: identity.user }));
    }

    closed(ws, identity) {
        const sockets = this.users.get(identity.user);
        if (!sockets || !sockets.delete(ws) || sockets.size > 0) return;
        this.users.delete(identity.user);
        if (this.options.presence === 'all') this.sendToAll(event('UserOffline', { user_id: identity.user }));
    }

    received(ws, identity, data, isBinary) {
        if (isBinary) return this.replyError(ws, 'binary_unsupported', 'send text frames');
        let envelope;
        try {
            envelope = JSON.parse(data.toString('utf8'));
        } catch {
            return this.replyError(ws, 'invalid_json', 'not JSON');
        }
        if (envelope === null || typeof envelope !== 'object' || typeof envelope.type !== 'string') {
            return this.replyError(ws, 'invalid_envelope', 'expected {"type":...,"data":...}');
        }
        const payload = envelope.data === undefined ? {} : envelope.data;
        if (envelope.type === 'SendMessage') return this.sendMessage(ws, identity, payload);
        if (envelope.type === 'Broadcast') {
            if (!identity.admin) return this.replyError(ws, 'forbidden', 'only admins may broadcast');
            return this.sendToAll(event('Broadcast', payload));
        }
        return this.replyError(ws, 'unknown_type', `no handler for ${envelope.type}`);
    }

    /** The client's data plus `from` and `message_id`, to each listed user and the sender's other sockets. */
    sendMessage(ws, identity, data) {
        const to = data && data.to;
        if (!Array.isArray(to) || to.length === 0 || to.length > 100 ||
            !to.every((user) => typeof user === 'string' && UUID.test(user))) {
            return this.replyError(ws, 'bad_payload', '"to" must be an array of 1 to 100 user ids');
        }
        const text = event('MessageSent', { ...data, from: identity.user, message_id: crypto.randomUUID() });
        const recipients = new Set(to.map((user) => user.toLowerCase()));
        recipients.delete(identity.user);
        for (const user of recipients) {
            const sockets = this.users.get(user);
            if (sockets) for (const socket of sockets) socket.send(text);
        }
        for (const socket of this.users.get(identity.user) || []) if (socket !== ws) socket.send(text);
    }

    replyError(ws, code, message) {
        ws.send(event('Error', { code, message }));
    }

    /** Returns the sockets sent to. */
    sendToAll(text) {
        let sent = 0;
        for (const sockets of this.users.values()) {
            for (const socket of sockets) {
                socket.send(text);
                ++sent;
            }
        }
        return sent;
    }
}

const server = new BaselineServer(parseArguments(process.argv.slice(2)));
server.listen();
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
