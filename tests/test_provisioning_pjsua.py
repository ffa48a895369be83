"""A real SIP user agent stack (PJSIP's pjsua2) negotiates a number with digest
authentication -- SHA-256 offered alone (RFC 8760), and MD5 alone -- registers it, and is
refused where it should be.  SIPp proves flow and load; a strict stack
catches malformed headers and a challenge it cannot answer."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from test_provisioning_helpers import REALM, ROOT, Service, mac, secret
from tools import require_module

UA = r"""
import json, sys, time
import pjsua2 as pj

port, realm, steps = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
ep = pj.Endpoint()
ep.libCreate()
cfg = pj.EpConfig()
cfg.logConfig.level = 0
cfg.logConfig.consoleLevel = 0
cfg.uaConfig.threadCnt = 0
cfg.uaConfig.mainThreadOnly = True
ep.libInit(cfg)
ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, pj.TransportConfig())
ep.audDevManager().setNullDev()
ep.libStart()


class Account(pj.Account):
    result = None

    def onRegState(self, prm):
        msg = prm.rdata.wholeMsg
        keep = ("P-Associated-URI", "Contact", "Warning")
        headers = [line for line in msg.split("\r\n") if line.startswith(keep)]
        self.result = {"code": prm.code, "reason": prm.reason, "headers": headers}


out, accounts = [], []
for user, username, password in steps:
    acfg = pj.AccountConfig()
    acfg.idUri = f"sip:{user}@{realm}"
    acfg.regConfig.registrarUri = f"sip:127.0.0.1:{port}"
    acfg.regConfig.timeoutSec = 600
    acfg.regConfig.retryIntervalSec = 0
    acfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", username, 0, password))
    acc = Account()
    acc.create(acfg)
    accounts.append(acc)
    deadline = time.time() + 10
    while acc.result is None and time.time() < deadline:
        ep.libHandleEvents(20)
    out.append(acc.result)
print(json.dumps(out))
sys.stdout.flush()
import os
os._exit(0)
"""


def _ua(svc: Service, steps) -> list[dict]:
    proc = subprocess.run([sys.executable, "-c", UA, str(svc.sip), REALM, json.dumps(steps)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("algorithms", ["SHA-256", "MD5"])
def test_pjsua_negotiates_registers_and_is_refused(tmp_path, algorithms):
    require_module("pjsua2", "pip install pjsua2-python (a dev dependency of pyproject.toml)")
    svc = Service(tmp_path, "--block", "2124561000", "--block-size", "5", "--algorithms",
                  algorithms, devices=3).start()  # fmt: skip
    try:
        first = _ua(svc, [["provision", mac(0), secret(0)]])[0]
        assert first["code"] == 200, first
        uri = next(h for h in first["headers"] if h.startswith("P-Associated-URI"))
        number = uri.split("<sip:")[1].split("@")[0]
        steps = [
            [number, mac(0), secret(0)],  # its number: registered, the binding listed
            ["provision", mac(0), secret(0)],  # again: the same number
            ["provision", mac(1), "not-the-secret"],  # wrong secret
            ["provision", "0004f2ffffff", "whatever1"],  # unknown device
            [number, mac(1), secret(1)],  # someone else's number
        ]
        reg, again, wrong, unknown, theirs = _ua(svc, steps)
        assert reg["code"] == 200 and any(h.startswith("Contact: <sip:") for h in reg["headers"])
        assert again["code"] == 200 and uri in again["headers"]
        assert (wrong["code"], unknown["code"], theirs["code"]) == (403, 403, 403)
        assert "Unknown Device" in unknown["reason"] and "Not Your Number" in theirs["reason"]
    finally:
        svc.stop()
