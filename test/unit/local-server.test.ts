import { corsHeaders } from '../../local/server';

describe('local server CORS', () => {
  it('allows every origin by default, only listed origins otherwise', () => {
    expect(corsHeaders('https://a.example', ['*'])['access-control-allow-origin']).toBe('*');
    expect(corsHeaders('https://a.example', ['https://a.example'])).toMatchObject({
      'access-control-allow-origin': 'https://a.example',
      vary: 'Origin',
    });
    expect(corsHeaders('https://evil.example', ['https://a.example'])['access-control-allow-origin']).toBeUndefined();
    expect(corsHeaders(undefined, ['https://a.example'])['access-control-allow-origin']).toBeUndefined();
  });
});
