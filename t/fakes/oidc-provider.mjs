// oidc-provider.mjs: a real OpenID Connect provider for t/api/79-oidc.t: npm's oidc-provider
// (installed in t/oidc/node_modules by ./quickstart test) with its development login and
// consent forms, on http://127.0.0.1:<port>.
//
// Users (any password): alice (groups pulse-admins, staff), bob (staff), carol (contractors),
// dave (staff, e-mail at elsewhere.org), eve (staff, a user name holding CR LF). Clients:
// "pulse-basic" (client_secret_basic, ID tokens signed RS256) and "pulse-post"
// (client_secret_post, ES256); their secrets are in SECRETS below.
//
// The token-level negatives: POST /__test/tamper?mode=M makes the next token answer's ID
// token altered, once: forged (signed by another RSA key under the provider's kid),
// wrong_aud, expired, none (alg "none", no signature), hs256 (HMAC with the client secret),
// bad_nonce, wrong_iss, no_exp, no_aud, rotate (signed by a new key, kid rs2, which /jwks
// publishes from then on: a key rotation); or left out (no_id_token). The ID token is decoded and signed again here (with the provider's
// own key unless the mode says otherwise), between the provider and the client: a fake token
// endpoint in front of the real one. --huge-jwks makes /jwks answer about 500 KiB of keys.
//
// Usage: node oidc-provider.mjs --port N --redirect URI --modules DIR [--huge-jwks]
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, def) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : def;
};
const port = Number(opt('--port', '0'));
const redirect = opt('--redirect', '');
const modules = opt('--modules', path.resolve(path.dirname(new URL(import.meta.url).pathname), '../oidc/node_modules'));
const hugeJwks = args.includes('--huge-jwks');
if (!port || !redirect) {
    console.error('usage: oidc-provider.mjs --port N --redirect URI --modules DIR [--huge-jwks]');
    process.exit(2);
}

const load = (name, file) => import(pathToFileURL(path.join(modules, name, file)).href);
const { default: Provider } = await load('oidc-provider', 'lib/index.js');
const jose = await load('jose', 'dist/webapi/index.js');

export const SECRETS = { 'pulse-basic': 'basic-secret-0123456789abcdef0123456789', 'pulse-post': 'post-secret-0123456789abcdef0123456789' };

async function privateJwk(alg, kid) {
    const { privateKey } = await jose.generateKeyPair(alg, { extractable: true });
    return { ...(await jose.exportJWK(privateKey)), kid, use: 'sig', alg };
}
const rsa = await privateJwk('RS256', 'rs1');
const ec = await privateJwk('ES256', 'es1');
const forger = await privateJwk('RS256', 'rs1');
// A key published only once a "rotate" token was issued: the client must fetch the set again.
const rotated = await privateJwk('RS256', 'rs2');
let rotatedPublished = false;

const users = {
    alice: { email: 'alice@example.com', name: 'Alice Admin', groups: ['pulse-admins', 'staff'] },
    bob: { email: 'bob@example.com', name: 'Bob User', groups: ['staff'] },
    carol: { email: 'carol@example.com', name: 'Carol Contractor', groups: ['contractors'] },
    dave: { email: 'dave@elsewhere.org', name: 'Dave Elsewhere', groups: ['staff'] },
    // A user name no header can carry.
    eve: { email: 'eve@example.com', name: 'Eve', groups: ['staff'], username: 'eve\r\nX-Evil: 1' },
};

const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
    clients: [
        { client_id: 'pulse-basic', client_secret: SECRETS['pulse-basic'], redirect_uris: [redirect],
            token_endpoint_auth_method: 'client_secret_basic', id_token_signed_response_alg: 'RS256' },
        { client_id: 'pulse-post', client_secret: SECRETS['pulse-post'], redirect_uris: [redirect],
            token_endpoint_auth_method: 'client_secret_post', id_token_signed_response_alg: 'ES256' },
    ],
    jwks: { keys: [rsa, ec] },
    cookies: { keys: ['oidc-test-cookie-key-0123456789'] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    claims: {
        openid: ['sub'],
        email: ['email', 'email_verified'],
        profile: ['name', 'preferred_username'],
        groups: ['groups'],
    },
    // Claims in the ID token itself, as Keycloak, Authentik and Entra ID put them.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    async findAccount(ctx, id) {
        const u = users[id];
        if (!u) return undefined;
        return {
            accountId: id,
            async claims() {
                return { sub: id, preferred_username: u.username || id, email: u.email, email_verified: true,
                    name: u.name, groups: u.groups };
            },
        };
    },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));

let tamper = null;
const counts = { token: 0, jwks: 0, discovery: 0 };

async function altered(idToken, mode, clientId) {
    const [h, p] = idToken.split('.');
    const header = JSON.parse(Buffer.from(h, 'base64url').toString());
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const now = Math.floor(Date.now() / 1000);
    let key = header.alg === 'ES256' ? ec : rsa;
    if (mode === 'wrong_aud') claims.aud = 'someone-else';
    if (mode === 'expired') { claims.exp = now - 3600; claims.iat = now - 7200; }
    if (mode === 'bad_nonce') claims.nonce = 'not-the-nonce';
    if (mode === 'wrong_iss') claims.iss = 'http://127.0.0.1:1/evil';
    if (mode === 'no_exp') delete claims.exp;
    if (mode === 'no_aud') delete claims.aud;
    if (mode === 'forged') { key = forger; header.alg = 'RS256'; header.kid = 'rs1'; }
    if (mode === 'rotate') { key = rotated; header.alg = 'RS256'; header.kid = 'rs2'; rotatedPublished = true; }
    if (mode === 'none') {
        const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
        return `${enc({ alg: 'none', typ: 'JWT' })}.${enc(claims)}.`;
    }
    if (mode === 'hs256') {
        return new jose.SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: header.kid })
            .sign(new TextEncoder().encode(SECRETS[clientId] || 'x'));
    }
    const priv = await jose.importJWK(key, header.alg);
    return new jose.SignJWT(claims).setProtectedHeader({ alg: header.alg, kid: header.kid, typ: header.typ })
        .sign(priv);
}

provider.use(async (ctx, next) => {
    if (ctx.path === '/token') counts.token++;
    if (ctx.path === '/jwks') counts.jwks++;
    if (ctx.path === '/.well-known/openid-configuration') counts.discovery++;
    if (hugeJwks && ctx.path === '/jwks') {
        const pub = { kty: rsa.kty, n: rsa.n, e: rsa.e, use: 'sig', alg: 'RS256' };
        ctx.body = { keys: Array.from({ length: 1200 }, (_, i) => ({ ...pub, kid: `k${i}` })) };
        ctx.type = 'application/json';
        return;
    }
    await next();
    if (ctx.path === '/jwks' && rotatedPublished && ctx.body && Array.isArray(ctx.body.keys)) {
        const { d, p, q, dp, dq, qi, ...pub } = rotated;
        ctx.body = { keys: [...ctx.body.keys, pub] };
    }
    if (ctx.path === '/token' && tamper && ctx.status === 200 && ctx.body && ctx.body.id_token) {
        const mode = tamper;
        tamper = null;
        if (mode === 'no_id_token') {
            const { id_token: _, ...rest } = ctx.body;
            ctx.body = rest;
            return;
        }
        const claims = JSON.parse(Buffer.from(ctx.body.id_token.split('.')[1], 'base64url').toString());
        ctx.body = { ...ctx.body, id_token: await altered(ctx.body.id_token, mode, claims.aud) };
    }
});

const callback = provider.callback();
const server = http.createServer((req, res) => {
    const u = new URL(req.url, issuer);
    if (u.pathname === '/__test/tamper' && req.method === 'POST') {
        tamper = u.searchParams.get('mode') || null;
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ tamper }));
        return;
    }
    if (u.pathname === '/__test/counts') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(counts));
        return;
    }
    callback(req, res);
});
server.listen(port, '127.0.0.1', () => console.log(`oidc provider ${issuer} ready`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
