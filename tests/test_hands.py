import threading, zipfile
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
import cv2
import numpy as np
import pytest
from scipy.io import savemat
from conftest import SHARED, needs_shared
from facemask.core import read_image, write_image
from facemask.hands import (EGOHANDS_FIELDS, Backdrop, Compose, Cutout, FaceCovering, HandOcclusion, NoFace, ObjectOcclusion, RandomHandPaste,
                            SkinToneLight, cutouts_from_mask, download_egohands, egohands_bank, egohands_to_folder, hand_bank, is_animal,
                            noface_split, paste, place_hand, split_bank)

def face_pair():
    img = np.full((128, 128, 3), 90, np.uint8); mask = np.zeros((128, 128), np.uint8)
    mask[30:100, 35:95] = 255; img[mask > 0] = (200, 150, 120)
    return img, mask

HAND = Cutout(np.full((40, 18, 3), (220, 170, 140), np.uint8), np.ones((40, 18), np.float32), (0.0, 1.0), 'h#1')

@pytest.mark.parametrize('t', [HandOcclusion([HAND], p=1.0, two_hands=0.5), RandomHandPaste([HAND], p=1.0), ObjectOcclusion(p=1.0),
                               HandOcclusion([HAND], p=1.0, same_skin=1.0), FaceCovering(p=1.0), SkinToneLight(1.0, 1.0),
                               Compose([SkinToneLight(1.0, 1.0), HandOcclusion([HAND], p=1.0), FaceCovering(p=1.0), ObjectOcclusion(p=1.0)])])
def test_occlusion_only_removes_covered_pixels(t):
    img, mask = face_pair()
    for seed in range(15):
        out, m2, occ = t.apply(img, mask, np.random.default_rng(seed))
        assert out.shape == img.shape and m2.shape == mask.shape and m2.dtype == np.uint8
        assert not (m2[occ > 0] > 0).any()                       # covered: never face
        keep = occ == 0
        assert np.array_equal(m2[keep], mask[keep])              # elsewhere: untouched
        assert (out[occ > 0] != img[occ > 0]).any(axis=-1).mean() > 0.5 if occ.any() else True

def test_transforms_are_seeded():
    img, mask = face_pair()
    t = HandOcclusion([HAND], p=1.0)
    a, b = t.apply(img, mask, np.random.default_rng(7)), t.apply(img, mask, np.random.default_rng(7))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))

def test_place_hand_points_wrist_away_from_face():
    _, mask = face_pair()
    rng = np.random.default_rng(0)
    away = 0
    for _ in range(50):
        x, y, angle, s = place_hand(HAND, mask, rng)
        a = np.radians(angle)  # where the wrist (0, 1) points after cv2's counter-clockwise rotation
        wx, wy = np.sin(a) * 1.0, np.cos(a) * 1.0
        away += (wx * (x - 65) + wy * (y - 65)) > 0
    assert away >= 45

def test_cutouts_split_components_and_find_the_wrist():
    img = np.zeros((60, 80, 3), np.uint8); m = np.zeros((60, 80), np.uint8)
    m[5:20, 5:20] = 255; m[30:60, 50:70] = 255; m[0:2, 40:42] = 255
    cs = cutouts_from_mask(img, m, 'x', min_area=50)
    assert len(cs) == 2 and cs[0].wrist is None and cs[1].wrist[1] > 0.9

def test_egohands_format(tmp_path):
    video = tmp_path/'_LABELLED_SAMPLES'/'PUZZLE_COURTYARD_B_S'; video.mkdir(parents=True)
    write_image(video/'frame_0001.jpg', np.full((90, 120, 3), 50, np.uint8))
    polys = np.zeros((1, 1), dtype=[(f, 'O') for f in EGOHANDS_FIELDS])
    tri = np.array([[10, 10], [60, 10], [10, 80]], float)
    polys[0, 0] = (np.zeros((0, 2)), tri, np.zeros((0, 2)), tri + [50, 0])
    savemat(video/'polygons.mat', {'polygons': polys})
    bank = egohands_bank(tmp_path, min_area=100)
    assert [c.source.split('/')[-1].split('#')[0] for c in bank] == ['myright', 'yourright']
    with pytest.raises(FileNotFoundError, match='polygons.mat'): egohands_bank(tmp_path/'nothing')

@pytest.fixture
def server(tmp_path):
    "A local HTTP server of `tmp_path/www`: (base URL, that folder, the paths asked for)."
    www, asked = tmp_path/'www', []
    www.mkdir()
    class Handler(SimpleHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            if self.path != '/cut.zip': return super().do_GET()
            self.send_response(200); self.send_header('Content-Length', '5000'); self.end_headers(); self.wfile.write(b'PK' * 100)
        def log_message(self, *args): pass
    httpd = ThreadingHTTPServer(('127.0.0.1', 0), partial(Handler, directory=str(www)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{httpd.server_port}', www, asked
    httpd.shutdown(); httpd.server_close()

TRI, BOX = np.array([[10, 10], [60, 10], [10, 80]], float), np.array([[70, 50], [110, 50], [110, 89], [70, 89]], float)  # BOX runs off the bottom
NONE = np.zeros((0, 2))

def egohands_zip(path):
    "An archive in EgoHands' layout: `_LABELLED_SAMPLES/<video>/frame_*.jpg` + polygons.mat (MATLAB struct array, one per frame), beside other files."
    frames = {'CARDS_OFFICE_H_T': [(TRI, BOX, NONE, NONE), (NONE,) * 4], 'JENGA_COURTYARD_T_S': [(NONE, NONE, BOX, NONE), (NONE, TRI, NONE, NONE)]}
    with zipfile.ZipFile(path, 'w') as z:
        z.writestr('README.txt', 'EgoHands'); z.writestr('metadata.mat', b'')
        for video, hands in frames.items():
            polys = np.zeros((1, len(hands)), dtype=[(f, 'O') for f in EGOHANDS_FIELDS])
            for k, four in enumerate(hands):
                polys[0, k] = four
                write_image(path.parent/'frame.jpg', np.full((90, 120, 3), 60 + 40 * k, np.uint8))
                z.write(path.parent/'frame.jpg', f'_LABELLED_SAMPLES/{video}/frame_{k + 1:04d}.jpg')
            savemat(path.parent/'polygons.mat', {'polygons': polys})
            z.write(path.parent/'polygons.mat', f'_LABELLED_SAMPLES/{video}/polygons.mat')

def test_download_egohands_and_make_a_hand_folder(tmp_path, server):
    url, www, asked = server
    egohands_zip(www/'egohands_data.zip')
    dest = tmp_path/'data'/'egohands'
    samples = download_egohands(dest, url=f'{url}/egohands_data.zip')
    assert samples == dest/'_LABELLED_SAMPLES' and sorted(p.name for p in samples.iterdir()) == ['CARDS_OFFICE_H_T', 'JENGA_COURTYARD_T_S']
    assert [p.name for p in dest.iterdir()] == ['_LABELLED_SAMPLES']               # the archive and the unpacking folder are gone
    assert download_egohands(dest, url=f'{url}/elsewhere.zip') == samples and asked == ['/egohands_data.zip']   # unpacked: not fetched again

    hands = egohands_to_folder(samples, tmp_path/'data'/'hands')
    names = ['egohands_CARDS_OFFICE_H_T_frame_0001', 'egohands_JENGA_COURTYARD_T_S_frame_0001', 'egohands_JENGA_COURTYARD_T_S_frame_0002']
    assert sorted(p.stem for p in (hands/'images').iterdir()) == sorted(p.stem for p in (hands/'masks').iterdir()) == names  # no frame without hands
    expect = np.zeros((90, 120), np.uint8)
    cv2.fillPoly(expect, [TRI.astype(np.int32)], 255); cv2.fillPoly(expect, [BOX.astype(np.int32)], 255)
    mask = cv2.imread(str(hands/'masks'/f'{names[0]}.png'), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(mask, expect) and read_image(hands/'images'/f'{names[0]}.jpg').shape == (90, 120, 3)   # both hands, binary, same size
    assert sorted(c.alpha.sum() for c in hand_bank(hands, min_area=100)) == sorted(c.alpha.sum() for c in egohands_bank(samples, min_area=100))
    stamp = (hands/'masks'/f'{names[0]}.png').stat().st_mtime_ns
    egohands_to_folder(samples, hands)                                               # again: nothing rewritten
    assert (hands/'masks'/f'{names[0]}.png').stat().st_mtime_ns == stamp
    assert sorted(p.stem for p in (egohands_to_folder(samples, tmp_path/'first', max_frames_per_video=1)/'masks').iterdir()) == names[:2]

@pytest.mark.parametrize('path', ['/missing.zip', '/cut.zip'])
def test_failed_egohands_download_names_the_url_and_leaves_nothing(tmp_path, server, path):
    url = server[0] + path
    with pytest.raises(OSError, match=f'{url}: download failed'): download_egohands(tmp_path/'egohands', url=url)
    assert not [p for p in tmp_path.rglob('*') if p.is_file() and 'www' not in p.parts]

def test_noface_swaps_for_an_empty_mask():
    img, mask = face_pair()
    out, m2 = NoFace([np.full((50, 70, 3), 3, np.uint8)], p=1.0)(img, mask, np.random.default_rng(0))
    assert out.shape == img.shape and m2.max() == 0

@needs_shared
def test_hand_bank_from_shared_photos_and_split_by_photo():
    bank = hand_bank(SHARED/'hands')
    train, val = split_bank(bank, 0.25, 0)
    assert len(bank) >= 75 and len(train) + len(val) == len(bank)
    assert not {c.source.split('#')[0] for c in train} & {c.source.split('#')[0] for c in val}
    assert all(c.rgb.shape[:2] == c.alpha.shape for c in bank)

def test_face_covering_hides_the_lower_face_only():
    img, mask = face_pair()
    for seed in range(10):
        _, m2, occ = FaceCovering(p=1.0).apply(img, mask, np.random.default_rng(seed))
        rows = np.nonzero((occ > 0)[:, 65])[0]
        assert 50 < rows.min() < 75 and rows.max() >= 99           # from about the middle of the face to the chin
        assert m2[30:50].sum() == mask[30:50].sum()                  # the eyes' half stays face

def test_backdrop_moves_the_face_and_its_mask_together():
    img, mask = face_pair()
    out, m2, occ = Backdrop([np.zeros((60, 90, 3), np.uint8)], p=1.0, scale=(0.5, 0.5)).apply(img, mask, np.random.default_rng(1))
    assert abs(int((m2 > 0).sum()) - int((mask > 0).sum()) // 4) < 80      # the face at half size
    assert np.abs(out[m2 > 0].mean(0) - (200, 150, 120)).max() < 3           # and the face's pixels under it (edges feathered)
    assert not occ.any() and (out[m2 == 0] == 0).mean() > 0.7               # the rest mostly backdrop

@needs_shared
def test_noface_validation_split_is_the_committed_one():
    "The no-face photos held out for validation are fixed: configs/split_noface.json, animals on both sides."
    import json
    from conftest import REPO
    train, val = noface_split(SHARED/'no-face')
    committed = json.loads((REPO/'configs'/'split_noface.json').read_text())
    assert (train, val) == (committed['train'], committed['val']) and not set(train) & set(val)
    assert sum(map(is_animal, val)) >= 40 and sum(map(is_animal, train)) >= 120
