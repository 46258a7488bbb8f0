// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// The Switchboard client for browsers and Node 18+: one connection that reconnects with backoff,
// resumes the user's event stream where it left off (no event handed to the app twice), and
// notices a dead connection with application-level pings, since a browser cannot see WebSocket
// pings. README.md beside this file is its manual; the wire protocol is the server's README.
//
// Threads: none. Everything runs on the caller's event loop; handlers are called synchronously,
// one at a time, from the socket's events and the client's timers.

const DEFAULTS = Object.freeze({
    token: undefined,
    minReconnectDelay: 500,
    maxReconnectDelay: 20000,
    stableAfter: 5000,
    connectTimeout: 10000,
    heartbeatInterval: 25000,
    heartbeatTimeout: 10000,
    WebSocket: undefined,
    position: undefined,
});

const OPEN = 1; // WebSocket.OPEN, spelled out: a constructor passed in need not carry the constant
const TIMEOUT_CLOSE_CODE = 4000; // ours: a dial that did not open, or a connection that stopped answering, in time
const LONGEST_TIMER = 2 ** 31 - 1; // setTimeout fires at once for longer delays
const EPOCH = /^[0-9a-f]{32}$/;
const RECOVERIES = new Set(['none', 'complete', 'unavailable']);
const CLIENT_EVENTS = new Set(['state', 'session', 'error']);

export class SwitchboardClient {
    #url;
    #options;
    #WebSocket;
    #state = 'closed';
    #socket = null;
    #position = null;
    #attempt = 0; // retries since connect() or the last connection that stayed open `stableAfter`
    #generation = 0; // bumped by every dial and by close(), so that a token arriving late is dropped
    #timers = new Map(); // name -> id: 'retry', 'connect', 'ping', 'pong', 'stable'
    #handlers = new Map(); // type -> Set of functions
    #onOnline = () => this.#retryNow();

    /**
     * @param {string | URL} url ws:, wss:, or (in a page) http:, https: or a path resolved
     *     against the page; the client adds the `token` and `resume` query parameters.
     * @param {object} [options] see README.md, "Options".
     */
    constructor(url, options = {}) {
        this.#url = webSocketUrl(url);
        this.#options = checkedOptions(options);
        this.#WebSocket = this.#options.WebSocket ?? globalThis.WebSocket;
        if (typeof this.#WebSocket !== 'function') {
            throw new TypeError('SwitchboardClient: no WebSocket here; pass one in options.WebSocket '
                + '(on Node before 22: `import { WebSocket } from "ws"`)');
        }
        this.#position = this.#options.position ? { ...this.#options.position } : null;
    }

    /** 'connecting' | 'open' | 'reconnecting' | 'closed' */
    get state() {
        return this.#state;
    }

    /** The stream position of the last durable event handed to the app: {epoch, offset}, or null. */
    get position() {
        return this.#position && { ...this.#position };
    }

    /** Starts connecting; does nothing unless closed. */
    connect() {
        if (this.#state !== 'closed') return;
        this.#attempt = 0;
        globalThis.addEventListener?.('online', this.#onOnline);
        this.#dial();
    }

    /** Closes the connection and stops every timer; the client stays closed until connect(). */
    close() {
        if (this.#state === 'closed') return;
        this.#generation += 1;
        globalThis.removeEventListener?.('online', this.#onOnline);
        this.#dropSocket(1000, 'closed by the client');
        this.#clearTimer('retry');
        this.#setState('closed', { attempt: this.#attempt });
    }

    /**
     * Sends `{"type":type,"data":data}`. True when handed to an open socket; false otherwise
     * (nothing is queued: resend after the next 'open' what must go out).
     */
    send(type, data = {}) {
        if (typeof type !== 'string' || type === '') throw new TypeError('send: the type must be a non-empty string');
        const text = JSON.stringify({ type, data });
        if (this.#state !== 'open' || this.#socket?.readyState !== OPEN) return false;
        try {
            this.#socket.send(text);
            return true;
        } catch (error) {
            this.#report(new Error(`send: the socket refused the frame: ${error.message}`, { cause: error }));
            return false;
        }
    }

    /**
     * Calls fn for each event of `type`: an event type from the server (fn(data, event)), or the
     * client's own 'state' (fn(state, detail)), 'session' (fn(session)) or 'error' (fn(error)).
     * Returns a function that removes it.
     */
    on(type, fn) {
        if (typeof fn !== 'function') throw new TypeError(`on('${type}'): the handler must be a function`);
        if (!this.#handlers.has(type)) this.#handlers.set(type, new Set());
        this.#handlers.get(type).add(fn);
        return () => this.off(type, fn);
    }

    off(type, fn) {
        this.#handlers.get(type)?.delete(fn);
    }

    // --- Connecting --------------------------------------------------------------------------------

    #dial() {
        const generation = ++this.#generation;
        this.#setState('connecting', { attempt: this.#attempt });
        if (generation !== this.#generation) return; // a 'state' handler closed the client
        const { token } = this.#options;
        if (typeof token !== 'function') return this.#openSocket(token);
        let result;
        try {
            result = token();
        } catch (error) {
            return this.#tokenFailed(error);
        }
        if (typeof result?.then !== 'function') return this.#openSocket(result);
        result.then(
            (value) => generation === this.#generation && this.#openSocket(value),
            (error) => generation === this.#generation && this.#tokenFailed(error));
    }

    #tokenFailed(error) {
        this.#scheduleRetry({ reason: 'token function failed' });
        this.#report(new Error(`the token function failed: ${error?.message ?? error}`, { cause: error }));
    }

    #openSocket(token) {
        if (token !== undefined && typeof token !== 'string') {
            this.#scheduleRetry({ reason: 'token function failed' });
            return this.#report(new TypeError(`the token function must give a string, not ${typeof token}`));
        }
        let socket;
        try {
            socket = new this.#WebSocket(this.#address(token));
        } catch (error) {
            this.#scheduleRetry({ reason: 'WebSocket constructor failed' });
            return this.#report(new Error(`the WebSocket constructor failed: ${error.message}`, { cause: error }));
        }
        this.#socket = socket;
        const current = () => socket === this.#socket;
        socket.onopen = () => current() && this.#opened();
        socket.onmessage = (message) => current() && this.#received(message.data);
        socket.onclose = (event) => current() && this.#lost({ code: event.code, reason: event.reason });
        socket.onerror = () => {}; // a close event follows; npm's ws throws an error nobody listens to
        this.#startTimer('connect', this.#options.connectTimeout, () => this.#giveUp('connect timeout'));
    }

    /** The URL with `token` (percent-encoded) and, once a position is known, `resume=<epoch>:<offset>`. */
    #address(token) {
        const url = new URL(this.#url);
        const parameters = url.search ? [url.search.slice(1)] : [];
        if (token !== undefined) parameters.push(`token=${encodeURIComponent(token)}`);
        if (this.#position) parameters.push(`resume=${this.#position.epoch}:${this.#position.offset}`);
        url.search = parameters.join('&');
        return url.href;
    }

    #opened() {
        this.#clearTimer('connect');
        this.#startTimer('stable', this.#options.stableAfter, () => { this.#attempt = 0; });
        this.#startTimer('ping', this.#options.heartbeatInterval, () => this.#ping());
        this.#setState('open', { attempt: this.#attempt });
    }

    #lost(cause) {
        this.#dropSocket();
        this.#scheduleRetry(cause);
    }

    /** Abandons a socket that did not open, or stopped answering, in time. */
    #giveUp(reason) {
        this.#dropSocket(TIMEOUT_CLOSE_CODE, reason);
        this.#scheduleRetry({ code: TIMEOUT_CLOSE_CODE, reason });
    }

    #dropSocket(code, reason) {
        for (const name of ['connect', 'stable', 'ping', 'pong']) this.#clearTimer(name);
        const socket = this.#socket;
        this.#socket = null; // its later events are ignored from now on
        if (socket && code !== undefined) {
            try {
                socket.close(code, reason);
            } catch {
                // already closing or closed: nothing left to release
            }
        }
    }

    #scheduleRetry(cause) {
        const delay = reconnectDelay(this.#attempt, this.#options);
        this.#attempt += 1;
        this.#startTimer('retry', delay, () => this.#dial());
        this.#setState('reconnecting', { attempt: this.#attempt, delay, nextRetryAt: Date.now() + delay, ...cause });
    }

    #retryNow() {
        if (this.#state !== 'reconnecting') return;
        this.#clearTimer('retry');
        this.#dial();
    }

    // --- Heartbeat ---------------------------------------------------------------------------------

    #ping() {
        this.#startTimer('ping', this.#options.heartbeatInterval, () => this.#ping());
        if (!this.#timers.has('pong')) {
            this.#startTimer('pong', this.#options.heartbeatTimeout, () => this.#giveUp('heartbeat timeout'));
        }
        this.send('Ping', {});
    }

    // --- Receiving ---------------------------------------------------------------------------------

    #received(frame) {
        this.#clearTimer('pong'); // any frame at all shows the connection alive
        let event;
        try {
            event = parseEnvelope(frame);
        } catch (error) {
            return this.#report(error);
        }
        if (event.type === 'Session') return this.#startSession(event.data);
        if (event.offset !== undefined && !this.#advance(event.offset)) return;
        this.#emit(event.type, event.data, event);
    }

    #startSession(session) {
        if (!isSession(session)) {
            return this.#report(new Error(`malformed Session frame: ${JSON.stringify(session)}`));
        }
        // With recovery "complete" the offset echoes ours; otherwise it is where the stream now stands.
        this.#position = { epoch: session.epoch, offset: session.offset };
        this.#emit('session', session);
    }

    /** Moves the position to a durable event's offset; false for one already handed to the app. */
    #advance(offset) {
        if (this.#position === null) return true; // no Session yet: nothing to compare against
        if (offset <= this.#position.offset) return false;
        this.#position = { epoch: this.#position.epoch, offset };
        return true;
    }

    // --- Handlers ----------------------------------------------------------------------------------

    #setState(state, detail) {
        this.#state = state;
        this.#emit('state', state, detail);
    }

    #emit(type, ...args) {
        for (const fn of [...(this.#handlers.get(type) ?? [])]) {
            try {
                fn(...args);
            } catch (error) {
                if (type === 'error') reportUnheard(error);
                else this.#report(new Error(`a '${type}' handler threw: ${error?.message ?? error}`, { cause: error }));
            }
        }
    }

    #report(error) {
        if (this.#handlers.get('error')?.size) this.#emit('error', error);
        else reportUnheard(error);
    }

    // --- Timers ------------------------------------------------------------------------------------

    /** Starts (or restarts) the named timer; a delay of 0 leaves it off. */
    #startTimer(name, delay, fn) {
        this.#clearTimer(name);
        if (delay === 0) return;
        this.#timers.set(name, setTimeout(() => {
            this.#timers.delete(name);
            fn();
        }, delay));
    }

    #clearTimer(name) {
        clearTimeout(this.#timers.get(name));
        this.#timers.delete(name);
    }
}

/** Full jitter: uniform between the minimum and a ceiling that doubles with each attempt, up to the maximum. */
function reconnectDelay(attempt, { minReconnectDelay: min, maxReconnectDelay: max }) {
    const ceiling = Math.min(max, min * 2 ** (attempt + 1));
    return Math.round(min + Math.random() * (ceiling - min));
}

function reportUnheard(error) {
    globalThis.console?.error('SwitchboardClient:', error);
}

function webSocketUrl(url) {
    const base = globalThis.location?.href;
    let parsed;
    try {
        parsed = new URL(url, base);
    } catch {
        throw new TypeError(`SwitchboardClient: not a URL: ${url}`);
    }
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') {
        parsed.protocol = parsed.protocol === 'http:' ? 'ws:' : 'wss:';
    }
    if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
        throw new TypeError(`SwitchboardClient: expected a ws: or wss: URL, not ${parsed.href}`);
    }
    parsed.hash = '';
    return parsed.href;
}

function checkedOptions(options) {
    for (const name of Object.keys(options)) {
        if (!(name in DEFAULTS)) throw new TypeError(`SwitchboardClient: unknown option '${name}'`);
    }
    const checked = { ...DEFAULTS, ...options };
    for (const name of ['minReconnectDelay', 'maxReconnectDelay', 'stableAfter', 'heartbeatTimeout']) {
        checkDuration(checked, name, 1);
    }
    for (const name of ['connectTimeout', 'heartbeatInterval']) checkDuration(checked, name, 0); // 0: off
    if (checked.maxReconnectDelay < checked.minReconnectDelay) {
        throw new RangeError('SwitchboardClient: maxReconnectDelay is below minReconnectDelay');
    }
    if (!['undefined', 'string', 'function'].includes(typeof checked.token)) {
        throw new TypeError('SwitchboardClient: token must be a string or a function');
    }
    if (checked.WebSocket !== undefined && typeof checked.WebSocket !== 'function') {
        throw new TypeError('SwitchboardClient: WebSocket must be a constructor');
    }
    if (checked.position !== undefined && !isPosition(checked.position)) {
        throw new TypeError('SwitchboardClient: position must be '
            + '{epoch: 32 lower-case hex digits, offset: an integer >= 0}');
    }
    return checked;
}

function checkDuration(options, name, least) {
    const value = options[name];
    if (!Number.isInteger(value) || value < least || value > LONGEST_TIMER) {
        throw new RangeError(`SwitchboardClient: ${name} must be an integer from ${least} to ${LONGEST_TIMER} ms`);
    }
}

function isOffset(value) {
    return Number.isSafeInteger(value) && value >= 0;
}

function isPosition(value) {
    return typeof value?.epoch === 'string' && EPOCH.test(value.epoch) && isOffset(value.offset);
}

function isSession(value) {
    return isPosition(value) && RECOVERIES.has(value.recovery) && isOffset(value.replayed);
}

/** The envelope {type, data, offset?} of a text frame, or an Error saying what is wrong with it. */
function parseEnvelope(frame) {
    if (typeof frame !== 'string') throw new Error('a binary frame arrived; the protocol is text frames only');
    let event;
    try {
        event = JSON.parse(frame);
    } catch (error) {
        throw new Error(`a frame is not JSON: ${error.message}`, { cause: error });
    }
    if (typeof event?.type !== 'string' || event.type === '' || Array.isArray(event)) {
        throw new Error(`a frame has no event type: ${frame.slice(0, 200)}`);
    }
    if (CLIENT_EVENTS.has(event.type)) throw new Error(`a frame uses the client's own event name '${event.type}'`);
    if (event.offset !== undefined && !isOffset(event.offset)) {
        throw new Error(`a frame has a malformed offset: ${frame.slice(0, 200)}`);
    }
    return event;
}
