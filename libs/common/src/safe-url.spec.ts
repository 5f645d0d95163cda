import http from 'node:http';
import { AddressInfo } from 'node:net';
import { assertPublicHttpUrl, isPublicAddress, safeFetch } from './safe-url';

describe('safe-url (server-side request forgery guard)', () => {
  it.each([
    '127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255',
    '::1', '::', 'fe80::1', 'fd00::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:a9fe:a9fe', '64:ff9b::7f00:1', '2001:db8::1', 'not-an-ip',
  ])('refuses %s', (ip) => expect(isPublicAddress(ip)).toBe(false));

  it.each(['8.8.8.8', '1.1.1.1', '93.184.216.34', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('accepts %s', (ip) => expect(isPublicAddress(ip)).toBe(true));

  it('refuses other schemes, credentials and private hosts with the field named', async () => {
    await expect(assertPublicHttpUrl('file:///etc/passwd', { field: 'payload.imageUrl' })).rejects.toMatchObject({ code: 'UNSAFE_URL', message: expect.stringContaining('payload.imageUrl: must use http or https') });
    await expect(assertPublicHttpUrl('http://user:pw@8.8.8.8/')).rejects.toMatchObject({ message: 'url: must not contain a user name or password' });
    await expect(assertPublicHttpUrl('http://localhost:3000/')).rejects.toMatchObject({ message: expect.stringContaining('non-public address') });
    await expect(assertPublicHttpUrl('http://[::ffff:169.254.169.254]/latest/meta-data')).rejects.toMatchObject({ code: 'UNSAFE_URL' });
    await expect(assertPublicHttpUrl('http://2130706433/')).rejects.toMatchObject({ code: 'UNSAFE_URL' }); // 127.0.0.1 as one number
    await expect(assertPublicHttpUrl('not a url')).rejects.toMatchObject({ message: 'url: is not a valid URL' });
    await expect(assertPublicHttpUrl('http://8.8.8.8/x.png')).resolves.toMatchObject({ address: '8.8.8.8' });
  });

  it('fetches an allowed host and re-checks every redirect', async () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/img') return res.writeHead(200, { 'content-type': 'image/png' }).end('PNG');
      if (req.url === '/hop') return res.writeHead(302, { location: '/img' }).end();
      if (req.url === '/out') return res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' }).end();
      res.writeHead(200).end('x'.repeat(2000));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const allowHosts = [`127.0.0.1:${(server.address() as AddressInfo).port}`];
    try {
      await expect(safeFetch(`${base}/img`)).rejects.toMatchObject({ code: 'UNSAFE_URL' }); // not allowed by default
      const ok = await safeFetch(`${base}/hop`, { allowHosts });
      expect([ok.status, ok.body.toString(), ok.url]).toEqual([200, 'PNG', `${base}/img`]);
      await expect(safeFetch(`${base}/out`, { allowHosts })).rejects.toMatchObject({ message: expect.stringContaining('169.254.169.254') });
      await expect(safeFetch(`${base}/big`, { allowHosts, maxBytes: 1000 })).rejects.toMatchObject({ message: 'url: response is larger than 1000 bytes' });
    } finally {
      server.close();
    }
  });
});
