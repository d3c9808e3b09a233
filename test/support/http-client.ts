/**
 * A small browser stand-in for HTTP tests: it keeps cookies (path, expiry,
 * flags), follows redirects one hop at a time so every hop can be checked,
 * submits simple HTML forms, and records every response it receives.
 * It talks only to loopback hosts.
 */

export interface StoredCookie {
  name: string;
  value: string;
  path: string;
  httpOnly: boolean;
  secure: boolean;
  sameSite: string | undefined;
  /** Epoch milliseconds; undefined for a session cookie. */
  expiresAt: number | undefined;
}

export interface HttpResponse {
  url: string;
  method: string;
  status: number;
  headers: Headers;
  /** Raw `Set-Cookie` header values, as sent. */
  setCookies: string[];
  body: string;
  /** The absolute redirect target, for 3xx responses with a Location header. */
  location: string | undefined;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  /** Sent as application/json. */
  json?: unknown;
  /** Sent as is, with the `content-type` of `headers`; for bodies that are not JSON or a form. */
  body?: string;
  /**
   * Leave out the `Origin` header that browsers add to non-GET requests. By
   * default the client sends the origin of the request URL, as a same-origin
   * form post would.
   */
  omitOrigin?: boolean;
}

export interface FollowOptions {
  /** Stops before requesting a redirect target for which this returns true. */
  stopBefore?: (location: string) => boolean;
}

export interface FollowResult {
  /** Every response from the first request to the final one, in order. */
  chain: HttpResponse[];
  final: HttpResponse;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export class HttpClient {
  /** Every response received, in order; tests search it for things a browser must not see. */
  readonly history: HttpResponse[] = [];
  private readonly jar = new Map<string, StoredCookie>();

  constructor(
    /** Base URL that relative paths resolve against, such as http://127.0.0.1:41234. */
    readonly baseUrl: string,
    private readonly maxRedirects = 10,
  ) {}

  /** Returns the value of a stored cookie, by name and optionally path. */
  cookie(name: string, path?: string): string | undefined {
    return this.findCookie(name, path)?.value;
  }

  /** Returns the stored cookie with its attributes. */
  findCookie(name: string, path?: string): StoredCookie | undefined {
    this.dropExpired();
    return [...this.jar.values()].find(
      (cookie) => cookie.name === name && (path === undefined || cookie.path === path),
    );
  }

  cookies(): StoredCookie[] {
    this.dropExpired();
    return [...this.jar.values()];
  }

  /** Stores a cookie as if the server had set it, e.g. to replay an old value. */
  setCookie(name: string, value: string, path = '/'): void {
    this.jar.set(`${name};${path}`, {
      name,
      value,
      path,
      httpOnly: true,
      secure: false,
      sameSite: undefined,
      expiresAt: undefined,
    });
  }

  deleteCookie(name: string, path?: string): void {
    for (const [key, cookie] of this.jar) {
      if (cookie.name === name && (path === undefined || cookie.path === path)) {
        this.jar.delete(key);
      }
    }
  }

  /** Sends one request without following redirects. */
  async request(target: string, options: RequestOptions = {}): Promise<HttpResponse> {
    const url = new URL(target, this.baseUrl);
    assertLoopback(url);
    const method = (
      options.method ?? (options.form || options.json ? 'POST' : 'GET')
    ).toUpperCase();

    const headers = new Headers(options.headers);
    const cookieHeader = this.cookieHeaderFor(url);
    if (cookieHeader && !headers.has('cookie')) {
      headers.set('cookie', cookieHeader);
    }
    if (method !== 'GET' && method !== 'HEAD' && !options.omitOrigin && !headers.has('origin')) {
      headers.set('origin', url.origin);
    }

    let body: string | undefined;
    if (options.form) {
      headers.set('content-type', 'application/x-www-form-urlencoded');
      body = new URLSearchParams(options.form).toString();
    } else if (options.json !== undefined) {
      headers.set('content-type', 'application/json');
      body = JSON.stringify(options.json);
    } else if (options.body !== undefined) {
      body = options.body;
    }

    const response = await fetch(url, { method, headers, body, redirect: 'manual' });
    const setCookies = response.headers.getSetCookie();
    for (const header of setCookies) {
      this.storeCookie(header, url);
    }

    const locationHeader = response.headers.get('location');
    const result: HttpResponse = {
      url: url.href,
      method,
      status: response.status,
      headers: response.headers,
      setCookies,
      body: await response.text(),
      location: locationHeader ? new URL(locationHeader, url).href : undefined,
    };
    this.history.push(result);
    return result;
  }

  /**
   * Sends a request and follows redirects hop by hop, as a browser would:
   * 303 (and 301/302 after a POST) continue with GET, 307/308 repeat the request.
   */
  async follow(
    target: string,
    options: RequestOptions = {},
    control: FollowOptions = {},
  ): Promise<FollowResult> {
    const chain: HttpResponse[] = [];
    let response = await this.request(target, options);
    chain.push(response);
    let current = options;

    while (REDIRECT_STATUSES.has(response.status) && response.location) {
      if (control.stopBefore?.(response.location)) {
        break;
      }
      if (chain.length > this.maxRedirects) {
        throw new Error(
          `More than ${this.maxRedirects} redirects, last to ${response.location}: ${chain
            .map((hop) => `${hop.status} ${hop.url}`)
            .join(' -> ')}`,
        );
      }
      const keepMethod = response.status === 307 || response.status === 308;
      current = keepMethod ? current : {};
      response = await this.request(response.location, current);
      chain.push(response);
    }
    return { chain, final: response };
  }

  /**
   * Submits the first form of an HTML page with its hidden fields and the
   * given values, following the redirects of the response.
   */
  async submitForm(
    page: HttpResponse,
    values: Record<string, string>,
    control: FollowOptions = {},
  ): Promise<FollowResult> {
    const form = parseFirstForm(page.body);
    if (!form) {
      throw new Error(`No <form> on the page ${page.url} (status ${page.status})`);
    }
    const action = new URL(form.action || page.url, page.url).href;
    const fields = { ...form.hiddenFields, ...values };
    if (form.method === 'GET') {
      const url = new URL(action);
      for (const [name, value] of Object.entries(fields)) {
        url.searchParams.set(name, value);
      }
      return await this.follow(url.href, {}, control);
    }
    return await this.follow(action, { method: 'POST', form: fields }, control);
  }

  /**
   * Signs in through the portal's login route and the development provider's
   * form. Returns the chain up to the login form and the chain after
   * submitting it, which ends on `returnTo` when sign-in works, or before the
   * first redirect that `control.stopBefore` selects.
   */
  async signInWithDevelopmentProvider(
    username: string,
    password: string,
    returnTo?: string,
    control: FollowOptions = {},
  ): Promise<{ toForm: FollowResult; submitted: FollowResult }> {
    const login = returnTo
      ? `/api/auth/login?returnTo=${encodeURIComponent(returnTo)}`
      : '/api/auth/login';
    const toForm = await this.follow(login);
    if (!/<form[^>]*action="[^"]*\/dev-idp\/interaction\//.test(toForm.final.body)) {
      throw new Error(
        `Expected the development provider's login form, got ${toForm.final.status} at ${toForm.final.url}: ${toForm.final.body.slice(0, 300)}`,
      );
    }
    const submitted = await this.submitForm(toForm.final, { username, password }, control);
    return { toForm, submitted };
  }

  private cookieHeaderFor(url: URL): string {
    this.dropExpired();
    return [...this.jar.values()]
      .filter((cookie) => pathMatches(url.pathname, cookie.path))
      .sort((a, b) => b.path.length - a.path.length)
      .map((cookie) => `${cookie.name}=${cookie.value}`)
      .join('; ');
  }

  private storeCookie(header: string, url: URL): void {
    const [pair = '', ...attributes] = header.split(';');
    const separator = pair.indexOf('=');
    if (separator <= 0) {
      return;
    }
    const cookie: StoredCookie = {
      name: pair.slice(0, separator).trim(),
      value: pair.slice(separator + 1).trim(),
      path: defaultPath(url.pathname),
      httpOnly: false,
      secure: false,
      sameSite: undefined,
      expiresAt: undefined,
    };

    for (const attribute of attributes) {
      const [rawKey = '', ...rest] = attribute.split('=');
      const key = rawKey.trim().toLowerCase();
      const value = rest.join('=').trim();
      if (key === 'path' && value.startsWith('/')) {
        cookie.path = value;
      } else if (key === 'httponly') {
        cookie.httpOnly = true;
      } else if (key === 'secure') {
        cookie.secure = true;
      } else if (key === 'samesite') {
        cookie.sameSite = value.toLowerCase();
      } else if (key === 'max-age' && /^-?\d+$/.test(value)) {
        cookie.expiresAt = Date.now() + Number(value) * 1000;
      } else if (key === 'expires' && cookie.expiresAt === undefined) {
        const time = Date.parse(value);
        if (!Number.isNaN(time)) {
          cookie.expiresAt = time;
        }
      }
    }

    const key = `${cookie.name};${cookie.path}`;
    if (cookie.expiresAt !== undefined && cookie.expiresAt <= Date.now()) {
      this.jar.delete(key);
      return;
    }
    this.jar.set(key, cookie);
  }

  private dropExpired(): void {
    const now = Date.now();
    for (const [key, cookie] of this.jar) {
      if (cookie.expiresAt !== undefined && cookie.expiresAt <= now) {
        this.jar.delete(key);
      }
    }
  }
}

function assertLoopback(url: URL): void {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (host !== 'localhost' && host !== '::1' && !/^127\./.test(host)) {
    throw new Error(`The test HTTP client only talks to loopback hosts, not ${url.host}`);
  }
}

/** RFC 6265 section 5.1.4 path-match. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) {
    return true;
  }
  if (!requestPath.startsWith(cookiePath)) {
    return false;
  }
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

/** RFC 6265 section 5.1.4 default-path: the request path up to its last '/'. */
function defaultPath(requestPath: string): string {
  const last = requestPath.lastIndexOf('/');
  return last <= 0 ? '/' : requestPath.slice(0, last);
}

interface ParsedForm {
  action: string;
  method: 'GET' | 'POST';
  hiddenFields: Record<string, string>;
}

/** Reads the first form of simple server-rendered HTML; enough for the portal's own pages. */
function parseFirstForm(html: string): ParsedForm | undefined {
  const match = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
  if (!match) {
    return undefined;
  }
  const attributes = parseAttributes(match[1] ?? '');
  const hiddenFields: Record<string, string> = {};
  for (const input of (match[2] ?? '').matchAll(/<input\b([^>]*)>/gi)) {
    const inputAttributes = parseAttributes(input[1] ?? '');
    if (inputAttributes.type?.toLowerCase() === 'hidden' && inputAttributes.name) {
      hiddenFields[inputAttributes.name] = inputAttributes.value ?? '';
    }
  }
  return {
    action: attributes.action ?? '',
    method: attributes.method?.toUpperCase() === 'GET' ? 'GET' : 'POST',
    hiddenFields,
  };
}

function parseAttributes(source: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const match of source.matchAll(/([\w-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
    const name = (match[1] ?? '').toLowerCase();
    attributes[name] = decodeEntities(match[2] ?? match[3] ?? match[4] ?? '');
  }
  return attributes;
}

function decodeEntities(value: string): string {
  return value
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}
