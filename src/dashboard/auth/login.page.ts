/** The login page (fields `username`, `password`), with an optional error message. */
import { html } from '../../html.ts';
import { renderPage } from '../page-shell.ts';

export function renderLoginPage(options: { next?: string; error?: string; username?: string }): string {
  return renderPage({
    title: 'Log in',
    body: html`<section class="login-box">
      <h1>Webmunk DCS</h1>
      ${options.error ? html`<p class="message error" role="alert">${options.error}</p>` : ''}
      <form method="post" action="/data/login">
        <input type="hidden" name="next" value="${options.next ?? '/data/'}">
        <label>User name <input name="username" autocomplete="username" required autofocus value="${options.username ?? ''}"></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
        <button type="submit">Log in</button>
      </form>
      <p class="hint">No account yet? An administrator creates one on the server with <code>npx dcs users create NAME</code>.</p>
    </section>`,
  });
}
