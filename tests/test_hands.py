import numpy as np
import pytest
from scipy.io import savemat
from conftest import SHARED, needs_shared
from facemask.core import write_image
from facemask.hands import (EGOHANDS_FIELDS, Backdrop, Compose, Cutout, FaceCovering, HandOcclusion, NoFace, ObjectOcclusion, RandomHandPaste,
                            SkinToneLight, cutouts_from_mask, egohands_bank, hand_bank, is_animal, noface_split, paste, place_hand, split_bank)

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
