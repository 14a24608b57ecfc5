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
  it('let another port through only for a registered http URI on the same loopback host, path and query', () => {
    // https, or http on a name that is not loopback: the port is part of the exact match.
    expect(redirectUriMatches(['https://127.0.0.1/cb'], 'https://127.0.0.1:8443/cb')).toBe(false);
    expect(redirectUriMatches(['http://app.example/cb'], 'http://app.example:8080/cb')).toBe(false);
    expect(redirectUriMatches(['https://127.0.0.1/cb'], 'http://127.0.0.1:5000/cb')).toBe(false);
    expect(redirectUriMatches(['http://127.0.0.1/cb'], 'http://localhost:5000/cb')).toBe(false);
    expect(redirectUriMatches(['http://127.0.0.1/cb'], 'http://agent@127.0.0.1:5000/cb')).toBe(false);
    // Any one of the registered URIs may match; one that is not a URI is passed over.
    expect(redirectUriMatches(['https://app.example/cb', 'http://127.0.0.1/cb'], 'http://127.0.0.1:5000/cb')).toBe(
      true,
    );
    expect(redirectUriMatches(['not a uri', 'http://[::1]/cb'], 'http://[::1]:5000/cb')).toBe(true);
    expect(redirectUriMatches(['not a uri'], 'http://127.0.0.1:5000/cb')).toBe(false);
    expect(redirectUriMatches(['http://127.0.0.1/cb'], 'not a uri')).toBe(false);
    expect(redirectUriMatches([], 'http://127.0.0.1:5000/cb')).toBe(false);
  });

  it('may not be registered with a scheme a browser runs or reads locally, or as http beyond loopback', () => {
    for (const uri of [
      'JavaScript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox(1)',
      'about:blank',
      'blob:https://app.example/0f6e9c1a',
      'filesystem:https://app.example/temporary/cb',
      'ws://127.0.0.1/cb',
      'wss://app.example/cb',
      'ftp://app.example/cb',
      'not a uri',
      'http://10.0.0.1/cb',
      'http://localhost.example/cb',
      'http://127.0.0.1.nip.io/cb',
    ]) {
      expect(acceptableRedirectUri(uri), uri).toBe(false);
    }
    // A scheme that merely ends like a refused one is an app's own.
    for (const uri of [
      'http://[::1]:8080/cb',
      'http://127.255.255.254/cb',
      'http://LOCALHOST:6274/cb',
      'com.example.ws:/cb',
      'com.example.file:/cb',
    ]) {
      expect(acceptableRedirectUri(uri), uri).toBe(true);
    }
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
