/**
 * The page's Content-Security-Policy nonce (the server writes a fresh one into each page), for
 * the one library that must add a style element: CodeMirror. Empty when the page has none
 * (the development server).
 */
export function cspNonce(): string {
  const value = document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.content ?? '';
  return value.startsWith('__') ? '' : value;
}
