import { describe, expect, it } from 'vitest';
import { isPublicAddress } from './addresses.js';
import { acceptableRedirectUri, redirectUriMatches } from './redirect-uris.js';

describe('redirect URIs', () => {
  it('match exactly, except the port of a loopback http URI', () => {
    expect(redirectUriMatches(['https://app.example/cb'], 'https://app.example/cb')).toBe(true);
    expect(redirectUriMatches(['https://app.example/cb'], 'https://app.example/cb/')).toBe(false);
    expect(redirectUriMatches(['https://app.example/cb'], 'https://app.example:8443/cb')).toBe(false);
    expect(redirectUriMatches(['http://127.0.0.1/callback'], 'http://127.0.0.1:51234/callback')).toBe(true);
    expect(redirectUriMatches(['http://127.0.0.1:3000/callback'], 'http://127.0.0.1:51234/callback')).toBe(true);
    expect(redirectUriMatches(['http://[::1]/callback'], 'http://[::1]:4000/callback')).toBe(true);
    expect(redirectUriMatches(['http://localhost:6274/cb'], 'http://localhost:7000/cb')).toBe(true);
    expect(redirectUriMatches(['http://127.0.0.1/callback'], 'http://127.0.0.1:51234/other')).toBe(false);
    expect(redirectUriMatches(['http://127.0.0.1/callback'], 'http://127.0.0.2:51234/callback')).toBe(false);
    expect(redirectUriMatches(['http://127.0.0.1/callback'], 'http://127.0.0.1:1/callback?x=1')).toBe(false);
  });

  it('may be registered as https, loopback http or a private-use scheme', () => {
    expect(acceptableRedirectUri('https://claude.ai/api/mcp/auth_callback')).toBe(true);
    expect(acceptableRedirectUri('http://127.0.0.1:33418/callback')).toBe(true);
    expect(acceptableRedirectUri('http://localhost:6274/oauth/callback')).toBe(true);
    expect(acceptableRedirectUri('cursor://anysphere.cursor-retrieval/oauth/callback')).toBe(true);
    expect(acceptableRedirectUri('file:///etc/passwd')).toBe(false);
    expect(acceptableRedirectUri('com.example.app:/callback')).toBe(true);
    expect(acceptableRedirectUri('http://app.example/callback')).toBe(false);
    expect(acceptableRedirectUri('javascript:alert(1)')).toBe(false);
    expect(acceptableRedirectUri('https://app.example/cb#frag')).toBe(false);
  });
});

describe('public addresses', () => {
  it('leave out private, loopback, link-local, shared and mapped private addresses', () => {
    for (const address of ['8.8.8.8', '2606:4700::1111', '1.1.1.1']) expect(isPublicAddress(address)).toBe(true);
    for (const address of [
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '127.0.0.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      'fe80::1',
      'fd00::1',
      '::ffff:10.0.0.1',
      '::ffff:127.0.0.1',
    ]) {
      expect(isPublicAddress(address), address).toBe(false);
    }
  });
});
