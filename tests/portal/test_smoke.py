"""Smoke: the app builds, migrates, and a user can log in and out."""

from distribution.models import Role


def test_login_and_logout(client, auth, world):
    vendor = world.vendor()
    world.user(Role.VENDOR_ADMIN, vendor, email="admin@acme.example.com")
    response = auth.login("admin@acme.example.com")
    assert response.status_code == 302
    assert client.get("/", follow_redirects=False).headers["Location"].endswith("/vendor/")
    assert auth.logout().status_code == 302
    assert client.get("/vendor/").status_code == 302  # back to the login page
