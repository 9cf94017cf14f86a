export { html, SafeHtml } from './html.js';
export { renderPage, pageResponse, errorPage, csrfRefusedPage, type PageOptions } from './page.js';
export { STYLESHEET, STYLESHEET_PATH } from './styles.js';
export { cookieName, serializeCookie, clearCookie, readCookie, type CookiePolicy } from './cookies.js';
export { createCsrf, type Csrf } from './csrf.js';
