#!/usr/bin/python3
# smtp-sink.py: an SMTP server for the API tests (Debian's python3-aiosmtpd). Three ports:
# plain (--plain-port), STARTTLS required (--starttls-port) and implicit TLS (--tls-port),
# the TLS ones with --cert/--key. AUTH PLAIN and LOGIN accept only --user/--password (AUTH
# is offered, not required). A refusal file (--control) holding "N CODE" makes the next N
# MAIL commands fail with CODE (4xx or 5xx). Every accepted message is written to --dir as
# <n>.json: {"mail_from", "rcpt_tos", "auth_user", "port", "data"}.
import argparse
import asyncio
import json
import os
import signal
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

ap = argparse.ArgumentParser()
ap.add_argument('--dir', required=True)
ap.add_argument('--plain-port', type=int, required=True)
ap.add_argument('--starttls-port', type=int, required=True)
ap.add_argument('--tls-port', type=int, required=True)
ap.add_argument('--cert', required=True)
ap.add_argument('--key', required=True)
ap.add_argument('--user', default='pulse')
ap.add_argument('--password', default='pulse-smtp-pw')
ap.add_argument('--control', default='')
opt = ap.parse_args()

counter = {'n': 0}
lock = threading.Lock()


def refusal():
    """The code to refuse with now, or None; counts the refusal down."""
    if not opt.control or not os.path.exists(opt.control):
        return None
    with lock:
        with open(opt.control) as f:
            parts = f.read().split()
        if len(parts) != 2 or int(parts[0]) <= 0:
            return None
        left, code = int(parts[0]) - 1, parts[1]
        with open(opt.control, 'w') as f:
            f.write('%d %s\n' % (left, code))
        return code


class Handler:
    def __init__(self, port):
        self.port = port

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        code = refusal()
        if code is not None:
            return '%s sink refuses this sender for now' % code
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        with lock:
            counter['n'] += 1
            n = counter['n']
        auth = session.auth_data
        user = auth.login.decode() if isinstance(auth, LoginPassword) else None
        rec = {
            'mail_from': envelope.mail_from,
            'rcpt_tos': envelope.rcpt_tos,
            'auth_user': user,
            'port': self.port,
            'data': envelope.content.decode('utf-8', 'replace'),
        }
        tmp = os.path.join(opt.dir, '.%d.tmp' % n)
        with open(tmp, 'w') as f:
            json.dump(rec, f)
        os.rename(tmp, os.path.join(opt.dir, '%d.json' % n))
        return '250 Message accepted for delivery'


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == opt.user
          and auth_data.password.decode() == opt.password)
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def context():
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(opt.cert, opt.key)
    return ctx


common = dict(authenticator=authenticator, auth_require_tls=False, hostname='127.0.0.1')
servers = [
    Controller(Handler('plain'), port=opt.plain_port, **common),
    Controller(Handler('starttls'), port=opt.starttls_port, tls_context=context(),
               require_starttls=True, **common),
    Controller(Handler('tls'), port=opt.tls_port, ssl_context=context(),
               server_hostname='127.0.0.1', **common),
]
os.makedirs(opt.dir, exist_ok=True)
for s in servers:
    s.start()
print('ready', flush=True)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: stop.set())
signal.signal(signal.SIGINT, lambda *a: stop.set())
stop.wait()
for s in servers:
    s.stop()
