/**
 * Completes an authentication link unattended, as `email` on the sandbox's consent page:
 * the link redirects to the sandbox's authorize URL, which accepts `login_hint` and
 * `sandbox_auto_consent=allow` in place of a click; its redirect lands on Switchboard's
 * callback, which stores the tokens (and, with user verification, redirects on to the app's
 * verify route, followed like a browser would). Works only against the sandbox: real Google needs a person.
 */
export function sandboxConsent(email: string, fetchImpl: typeof fetch = fetch) {
  return async (link: string): Promise<void> => {
    const opened = await fetchImpl(link, { redirect: 'manual' });
    const authorize = opened.headers.get('location');
    await opened.body?.cancel();
    if (opened.status !== 302 || !authorize) {
      throw new Error(`the authentication link answered ${opened.status} instead of redirecting to the consent page`);
    }
    const url = new URL(authorize, link);
    url.searchParams.set('login_hint', email);
    url.searchParams.set('sandbox_auto_consent', 'allow');
    const decided = await fetchImpl(url, { redirect: 'manual' });
    const callback = decided.headers.get('location');
    await decided.body?.cancel();
    if (!callback) {
      throw new Error(
        `the consent page at ${url.origin} did not redirect back (status ${decided.status}); is this connection on the sandbox?`,
      );
    }
    const callbackUrl = new URL(callback, url);
    const done = await fetchImpl(callbackUrl, { redirect: 'manual' });
    const verifyRoute = done.headers.get('location');
    await done.body?.cancel();
    if (done.status === 302 && verifyRoute) {
      // User verification: on to the app's verify route, which sends the browser to Switchboard's success page.
      const verified = await fetchImpl(new URL(verifyRoute, callbackUrl), { redirect: 'follow' });
      await verified.body?.cancel();
      if (verified.status !== 200) throw new Error(`the app's user verify route answered ${verified.status}`);
      return;
    }
    if (done.status !== 200) throw new Error(`Switchboard's OAuth callback answered ${done.status}`);
  };
}
