import numpy as np
import pytest
from scipy.io import savemat
from conftest import SHARED, needs_shared
from facemask.core import write_image
from facemask.hands import (EGOHANDS_FIELDS, Compose, Cutout, HandOcclusion, NoFace, ObjectOcclusion, RandomHandPaste,
                            cutouts_from_mask, egohands_bank, hand_bank, paste, place_hand, split_bank)

def face_pair():
    img = np.full((128, 128, 3), 90, np.uint8); mask = np.zeros((128, 128), np.uint8)
    mask[30:100, 35:95] = 255; img[mask > 0] = (200, 150, 120)
    return img, mask

HAND = Cutout(np.full((40, 18, 3), (220, 170, 140), np.uint8), np.ones((40, 18), np.float32), (0.0, 1.0), 'h#1')

@pytest.mark.parametrize('t', [HandOcclusion([HAND], p=1.0, two_hands=0.5), RandomHandPaste([HAND], p=1.0), ObjectOcclusion(p=1.0),
                               Compose([HandOcclusion([HAND], p=1.0), ObjectOcclusion(p=1.0)])])
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
