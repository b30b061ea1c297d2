def test_admin_creates_and_reads_a_selection(client, admin, make_selection):
    sel = make_selection()
    r = client.get(f"/api/v1/selections/{sel['id']}", headers=admin)
    assert r.status_code == 200
    assert r.json()["state"] == "drafting"
    assert r.headers["etag"] == f'"selection-{sel["id"].replace("-", "")}-v1"'
    r = client.get(f"/api/v1/selections/{sel['id']}/events", headers=admin)
    assert [e["action"] for e in r.json()["items"]] == ["create"]
