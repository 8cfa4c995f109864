"""Issue 2, relay: a charger reconnecting with the same id replaces its old session;
the old socket is closed by the gateway, the new one carries the traffic both ways."""

import pytest

import ocpp_sim
from ocpp_sim import from_csms, texts, to_csms


@pytest.mark.parametrize("versions", [("1.6", "1.6"), ("2.0.1", "2.0.1"), ("1.6", "2.0.1")])
def test_reconnect_replaces_the_old_session(csms, gateway, charger, versions):
    gateway(chargers=["CP01", "CP02"])
    old = charger("CP01", versions[0])
    old.boot()
    other = charger("CP02", "1.6")
    other.boot()
    csms.wait_connected("CP01")

    new = charger("CP01", versions[1])           # same id, a second socket
    code = old.wait_closed()                     # the gateway closes the old one
    assert code is not None and code != 1006, f"old socket closed without a close frame ({code})"
    new.session()

    # the CSMS's CALLs go to the new socket, never to the old one
    reset = {"type": "Soft"} if versions[1] == "1.6" else {"type": "OnIdle"}
    assert csms.call("CP01", "Reset", reset)["status"] == "Accepted"
    assert [f.action for f in from_csms(new, csms) if f.type == 2] == ["Reset"]
    assert [f for f in from_csms(old, csms) if f.type == 2] == []

    # what the new session sent arrived, in order, on the newest upstream socket,
    # which speaks the new session's version
    conn = csms.connection("CP01")
    assert conn.open and conn.version == versions[1]
    got = texts(csms.received("CP01", types=2))
    assert got[-len(new.sent(types=2)):] == texts(new.sent(types=2))
    assert texts(csms.received("CP01", types=3))[-1] == \
        [f.text for f in to_csms(new, csms) if f.type == 3][-1]
    # the other charger was not disturbed
    other.heartbeat()
    assert other.aio.conn_count == 1 and other.connected
    ocpp_sim.assert_no_violations(csms, old, new, other)


def test_many_quick_reconnects(csms, gateway, charger):
    gateway(chargers=["CP01"])
    previous = None
    for i in range(15):
        cp = charger("CP01", "1.6" if i % 2 else "2.0.1")
        if previous is not None:
            assert previous.wait_closed() is not None
        cp.heartbeat()
        previous = cp
    previous.session()
    # old upstream sockets do not pile up
    csms.wait_for(lambda: len([c for c in csms.aio.connections["CP01"] if c.open]) == 1,
                  what="a single open upstream socket for CP01")
    ocpp_sim.assert_no_violations(csms, previous)


def test_abrupt_charger_drop_then_reconnect(csms, gateway, charger):
    gateway(chargers=["CP01"])
    cp = charger("CP01", "1.6")
    cp.boot()
    csms.wait_connected("CP01")
    cp.abort()                                   # TCP gone, no close frame
    csms.wait_disconnected("CP01", count=1)      # the gateway notices and closes upstream
    again = charger("CP01", "1.6")
    again.session()
    ocpp_sim.assert_no_violations(csms, cp, again)


@pytest.mark.parametrize("unanswered", ["csms-call", "gateway-calls", "gateway-profile"])
@pytest.mark.parametrize("versions", [("2.0.1", "1.6"), ("1.6", "2.0.1")])
def test_replacement_in_another_version_while_the_old_one_owes_answers(csms, gateway, charger,
                                                                      versions, unanswered):
    """The old socket leaves a CALL unanswered (the CSMS's, or whatever the gateway
    itself sends, if anything) when a new one replaces it in the other version:
    the new session gets only frames of its own version and works both ways."""
    gateway(chargers=["CP01"])
    old = charger("CP01", versions[0])
    pending = None
    if unanswered == "csms-call":
        old.on("DataTransfer", ocpp_sim.NO_ANSWER)
        old.boot()
        csms.wait_connected("CP01")
        pending = csms.spawn.call("CP01", "DataTransfer", {"vendorId": "V", "data": "old"},
                                  timeout=5)
        old.wait_call("DataTransfer")
    elif unanswered == "gateway-calls":
        old.on("*", ocpp_sim.NO_ANSWER)
        old.boot()
        csms.wait_connected("CP01")
    else:
        # the gateway's charging profile (issue 3), if it sends one, stays unanswered
        old.on("SetChargingProfile", ocpp_sim.NO_ANSWER)
        old.boot()
        csms.wait_connected("CP01")
        try:
            old.wait_call("SetChargingProfile", timeout=5)
        except ocpp_sim.WaitTimeout:
            pass                                 # a gateway that sends none

    new = charger("CP01", versions[1])
    old.wait_closed()
    new.session()
    reset = {"type": "Soft"} if versions[1] == "1.6" else {"type": "OnIdle"}
    assert csms.call("CP01", "Reset", reset)["status"] == "Accepted"
    new.session()
    if pending is not None:
        with pytest.raises((ocpp_sim.CallTimeout, ocpp_sim.PeerClosed)):
            pending.result(15)                   # the old charger never answered it
    assert new.aio.conn.version == versions[1]
    ocpp_sim.assert_no_violations(csms, old, new)
