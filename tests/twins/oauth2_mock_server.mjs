#!/usr/bin/env node
// Stand-in for the Microsoft identity platform in tests: npm `oauth2-mock-server` (v8) plus a
// small control endpoint. The package's own OAuth logic (discovery, JWKS, signed JWTs, PKCE
// verification, code handling) runs unchanged; this file only listens to its documented hooks
// (`beforeAuthorizeRedirect`, `beforeTokenSigning`, `beforeResponse`, `beforeUserinfo`) to:
//   * bind each authorization code to the user, client, redirect_uri, scope and PKCE challenge
//     of its /authorize request, and refuse at /token a code that is unknown, already redeemed,
//     issued to another client or another redirect_uri, or that had a code_challenge but comes
//     without a code_verifier (the package checks a verifier only when one is sent);
//   * answer with the scope granted at /authorize (the package echoes the token request's
//     `scope`, or "dummy"), issue a refresh_token only when `offline_access` was granted and an
//     id_token only when `openid` was (Microsoft's documented behaviour);
//   * put the current user's claims (sub, email, name, preferred_username) in the id_token and
//     at /userinfo, which also refuses unknown bearer tokens (the package returns {sub:"johndoe"});
//   * refuse unknown refresh tokens (the package accepts any string);
//   * apply one-shot behaviours armed through POST /__control.
//
// Usage: node oauth2_mock_server.mjs [--host 127.0.0.1] [--port 0] [--advertise-host HOST]
// Prints one JSON line {"ready":true,"port":N,"issuer":"..."} on stdout once listening, logs to
// stderr, and exits on SIGTERM/SIGINT or when stdin closes (so it cannot outlive its parent).
//
// Control API (JSON bodies; every key optional; "reset" is applied first):
//   POST /__control {
//     "reset": true,                                  // forget users, codes, tokens, arms, log
//     "user": {"sub": "...", "email": "...", ...},    // who authorizes from now on (persistent)
//     "clients": {"<client_id>": "<secret>"},          // enforce client auth at /token (persistent)
//     "next_authorize": {"error": "access_denied", "error_description": "..."},   // one-shot
//     "next_token": {"drop_refresh_token": true, "scope": "openid email",
//                    "id_token_claims": {...}, "error": "invalid_grant", "status": 400,
//                    "error_description": "..."}                                 // one-shot
//   }
//   GET /__control -> {"user":..., "armed":{...}, "log":[...requests seen...]}

import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { OAuth2Issuer, OAuth2Service } from "oauth2-mock-server";

const { values: args } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "0" },
    "advertise-host": { type: "string" },
  },
});

const DEFAULT_USER = Object.freeze({
  sub: "mock-microsoft-user",
  email: "ada@example.com",
  name: "Ada Lovelace",
  preferred_username: "ada@example.com",
});

function freshState() {
  return {
    user: { ...DEFAULT_USER },
    clients: null,
    nextAuthorize: null,
    nextToken: null,
    codes: new Map(),
    accessTokens: new Map(),
    refreshTokens: new Map(),
    log: [],
  };
}

let state = freshState();

const issuer = new OAuth2Issuer();
await issuer.keys.generate("RS256");
const service = new OAuth2Service(issuer);

const scopesOf = (scope) => (typeof scope === "string" ? scope.split(/\s+/).filter(Boolean) : []);

function clientCredentials(req) {
  const header = req.headers.authorization ?? "";
  const match = /^Basic\s+(.+)$/i.exec(header);
  if (match) {
    const decoded = Buffer.from(match[1], "base64").toString("utf8");
    const i = decoded.indexOf(":");
    // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
    const unform = (s) => decodeURIComponent(s.replace(/\+/g, " "));
    return {
      method: "client_secret_basic",
      id: unform(i < 0 ? decoded : decoded.slice(0, i)),
      secret: i < 0 ? undefined : unform(decoded.slice(i + 1)),
    };
  }
  const body = req.body ?? {};
  if (body.client_secret !== undefined) {
    return { method: "client_secret_post", id: body.client_id, secret: body.client_secret };
  }
  return { method: "none", id: body.client_id, secret: undefined };
}

function grantContext(req) {
  const body = req.body ?? {};
  if (body.grant_type === "authorization_code") return state.codes.get(body.code);
  if (body.grant_type === "refresh_token") return state.refreshTokens.get(body.refresh_token);
  return undefined;
}

function userClaims(user, scope) {
  const claims = { ...user };
  if (!scopesOf(scope).includes("email")) delete claims.email;
  return claims;
}

service.on("beforeAuthorizeRedirect", (redirect, req) => {
  const q = req.query ?? {};
  state.log.push({
    endpoint: "authorize",
    client_id: q.client_id,
    redirect_uri: q.redirect_uri,
    response_type: q.response_type,
    scope: q.scope,
    state: q.state,
    prompt: q.prompt,
    code_challenge: q.code_challenge,
    code_challenge_method: q.code_challenge_method,
  });
  const url = redirect.url;
  const code = url.searchParams.get("code");
  const armed = state.nextAuthorize;
  state.nextAuthorize = null;
  if (armed) {
    url.searchParams.delete("code");
    url.searchParams.set("error", armed.error ?? "access_denied");
    url.searchParams.set(
      "error_description",
      armed.error_description ?? "AADSTS65004: User declined to consent to access the app.",
    );
    return;
  }
  if (!code) return;
  state.codes.set(code, {
    client_id: q.client_id,
    redirect_uri: q.redirect_uri,
    scope: typeof q.scope === "string" ? q.scope : "",
    code_challenge: q.code_challenge,
    user: { ...state.user },
    used: false,
  });
});

service.on("beforeTokenSigning", (token, req) => {
  const ctx = grantContext(req);
  if (!ctx) return;
  const payload = token.payload;
  if ("amr" in payload) {
    payload.sub = ctx.user.sub; // access token
    return;
  }
  const extra = state.nextToken?.id_token_claims ?? {};
  Object.assign(payload, userClaims(ctx.user, ctx.scope), extra, { sub: extra.sub ?? ctx.user.sub });
});

service.on("beforeResponse", (response, req) => {
  const body = req.body ?? {};
  const client = clientCredentials(req);
  state.log.push({
    endpoint: "token",
    grant_type: body.grant_type,
    client_id: client.id,
    auth_method: client.method,
    redirect_uri: body.redirect_uri,
    scope: body.scope,
    has_code_verifier: "code_verifier" in body,
  });
  const fail = (status, error, description) => {
    response.statusCode = status;
    response.body = { error, error_description: description };
  };

  if (state.clients && state.clients[client.id] !== client.secret) {
    return fail(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.");
  }

  let ctx;
  let granted;
  if (body.grant_type === "authorization_code") {
    ctx = state.codes.get(body.code);
    if (!ctx) return fail(400, "invalid_grant", "AADSTS70000: The authorization code is unknown.");
    if (ctx.used) return fail(400, "invalid_grant", "AADSTS54005: OAuth2 Authorization code was already redeemed.");
    ctx.used = true;
    if (ctx.client_id !== client.id) return fail(400, "invalid_grant", "The code was issued to another client.");
    if (ctx.redirect_uri !== body.redirect_uri) {
      return fail(400, "invalid_grant", "AADSTS50148: redirect_uri does not match the authorization request.");
    }
    if (ctx.code_challenge && !("code_verifier" in body)) {
      return fail(400, "invalid_grant", "AADSTS501481: The Code_Verifier is missing.");
    }
    granted = ctx.scope;
  } else if (body.grant_type === "refresh_token") {
    ctx = state.refreshTokens.get(body.refresh_token);
    if (!ctx) return fail(400, "invalid_grant", "AADSTS9002313: Invalid refresh token.");
    if (ctx.client_id !== client.id) return fail(400, "invalid_grant", "The refresh token belongs to another client.");
    if (body.scope !== undefined) {
      const have = new Set(scopesOf(ctx.scope));
      if (!scopesOf(body.scope).every((s) => have.has(s))) {
        return fail(400, "invalid_grant", "AADSTS65001: The user has not consented to the requested scope.");
      }
    }
    granted = body.scope ?? ctx.scope;
  } else {
    return; // other grants: the package's own behaviour
  }

  const armed = state.nextToken;
  state.nextToken = null;
  if (armed?.error) {
    return fail(armed.status ?? 400, armed.error, armed.error_description ?? `armed ${armed.error}`);
  }
  const grantedScopes = scopesOf(granted);
  const out = response.body;
  out.scope = armed?.scope ?? granted;
  if (!grantedScopes.includes("offline_access") || armed?.drop_refresh_token) delete out.refresh_token;
  if (!grantedScopes.includes("openid")) delete out.id_token;

  state.accessTokens.set(out.access_token, { user: ctx.user, scope: granted });
  if (out.refresh_token) {
    state.refreshTokens.set(out.refresh_token, { user: ctx.user, scope: granted, client_id: client.id });
  }
});

service.on("beforeUserinfo", (response, req) => {
  const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "");
  const known = match ? state.accessTokens.get(match[1]) : undefined;
  state.log.push({ endpoint: "userinfo", known_token: Boolean(known) });
  if (!known) {
    response.statusCode = 401;
    response.body = { error: "invalid_token", error_description: "Unknown or missing bearer token." };
    return;
  }
  response.body = userClaims(known.user, known.scope);
});

function armedSummary() {
  return { next_authorize: state.nextAuthorize, next_token: state.nextToken, clients: state.clients };
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? JSON.parse(text) : {};
}

function sendJson(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

async function control(req, res) {
  if (req.method === "GET") {
    return sendJson(res, 200, { user: state.user, armed: armedSummary(), log: state.log });
  }
  if (req.method !== "POST") return sendJson(res, 405, { error: "method_not_allowed" });
  let cmd;
  try {
    cmd = await readJson(req);
  } catch (err) {
    return sendJson(res, 400, { error: "bad_json", error_description: String(err) });
  }
  if (cmd === null || typeof cmd !== "object" || Array.isArray(cmd)) {
    return sendJson(res, 400, { error: "bad_request", error_description: "expected a JSON object" });
  }
  const known = new Set(["reset", "user", "clients", "next_authorize", "next_token"]);
  const unknown = Object.keys(cmd).filter((k) => !known.has(k));
  if (unknown.length) return sendJson(res, 400, { error: "unknown_keys", keys: unknown });
  if (cmd.reset) state = freshState();
  if (cmd.user !== undefined) {
    if (!cmd.user || typeof cmd.user.sub !== "string") {
      return sendJson(res, 400, { error: "bad_user", error_description: "user needs a string sub" });
    }
    state.user = { ...cmd.user };
  }
  if (cmd.clients !== undefined) state.clients = cmd.clients;
  if (cmd.next_authorize !== undefined) state.nextAuthorize = cmd.next_authorize;
  if (cmd.next_token !== undefined) state.nextToken = cmd.next_token;
  return sendJson(res, 200, { user: state.user, armed: armedSummary() });
}

const server = createServer((req, res) => {
  if (req.url === "/__control" || req.url.startsWith("/__control?")) {
    control(req, res).catch((err) => sendJson(res, 500, { error: "control_failed", error_description: String(err) }));
    return;
  }
  service.requestHandler(req, res);
});

await new Promise((resolve, reject) => {
  server.once("error", reject);
  server.listen(Number(args.port), args.host, resolve);
});
const port = server.address().port;
// The package's own rule (HttpServer.buildIssuerUrl) advertises http://localhost:PORT for a
// loopback bind address; --advertise-host overrides the host part.
const loopback = /^(127\.|0\.0\.0\.0$|::1?$)/.test(args.host);
const advertised = args["advertise-host"] ?? (loopback ? "localhost" : args.host);
issuer.url = `http://${advertised.includes(":") ? `[${advertised}]` : advertised}:${port}`;

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.on("error", stop);
process.stdin.resume();

process.stdout.write(`${JSON.stringify({ ready: true, port, issuer: issuer.url })}\n`);
console.error(`oauth2-mock-server stand-in listening on ${args.host}:${port}, issuer ${issuer.url}`);
