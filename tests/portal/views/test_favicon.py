"""/favicon.ico: browsers ask for it on every page; it answers with the shop's icon."""

import io

import pytest
from PIL import Image


@pytest.mark.django_db
def test_the_favicon_answers_with_an_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith(".ico")
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    data = b"".join(icon.streaming_content) if icon.streaming else icon.content
    assert data[:4] == b"\x00\x00\x01\x00"   # the ICO header
    image = Image.open(io.BytesIO(data))
    assert image.format == "ICO" and image.size[0] >= 16
