import json
import cv2
import numpy as np
import pytest
import torch
from conftest import SHARED, needs_shared
from facemask.data import (CELEBAMASK_PARTS, FACE_PARTS, FaceMaskDataset, load_split, merge_parts, official_split,
                           part_files, prepare, random_affine, seeded_split)

def box(shape, y0, y1, x0, x1):
    m = np.zeros(shape, bool); m[y0:y1, x0:x1] = True; return m

def test_merge_order_later_parts_win():
    s = (8, 8)
    parts = {'skin': box(s, 0, 8, 0, 8), 'hair': box(s, 0, 3, 0, 8), 'eye_g': box(s, 3, 5, 0, 8), 'l_eye': box(s, 3, 5, 1, 3),
             'cloth': box(s, 7, 8, 0, 8), 'nose': box(s, 5, 7, 3, 5)}
    m = merge_parts(parts)
    assert m[1, 4] == 0 and m[4, 5] == 0 and m[4, 2] == 255 and m[7, 0] == 0 and m[6, 4] == 255 and m[5, 0] == 255
    assert m.dtype == np.uint8 and set(np.unique(m)) == {0, 255}

def test_merge_parts_is_a_parameter_and_rejects_unknown_parts():
    s = (4, 4)
    assert merge_parts({'hair': box(s, 0, 4, 0, 4)}, face_parts=['hair']).min() == 255
    with pytest.raises(ValueError, match='unknown parts'): merge_parts({'beard': box(s, 0, 1, 0, 1)})
    assert set(FACE_PARTS) <= set(CELEBAMASK_PARTS)

def test_seeded_split_is_deterministic_and_disjoint():
    a, b = seeded_split(range(100), 0.2, 0.1, seed=3), seeded_split(list(range(100))[::-1], 0.2, 0.1, seed=3)
    assert a == b and [len(a[k]) for k in ('train', 'val', 'test')] == [70, 20, 10]
    assert not (set(a['train']) & set(a['val'])) and not (set(a['val']) & set(a['test']))
    assert a != seeded_split(range(100), 0.2, 0.1, seed=4)

def test_official_split(tmp_path):
    (tmp_path/'CelebA-HQ-to-CelebA-mapping.txt').write_text('idx orig_idx orig_file\n0 5 000006.jpg\n1 1 000002.jpg\n')
    (tmp_path/'list_eval_partition.txt').write_text('000002.jpg 2\n000006.jpg 0\n')
    assert official_split(tmp_path) == {'train': [0], 'val': [], 'test': [1]}

def test_prepare_from_a_fake_root_is_idempotent_and_atomic(tmp_path):
    root = tmp_path/'root'; (root/'CelebA-HQ-img').mkdir(parents=True); (root/'CelebAMask-HQ-mask-anno'/'0').mkdir(parents=True)
    for i in range(5):
        cv2.imwrite(str(root/'CelebA-HQ-img'/f'{i}.jpg'), np.full((40, 40, 3), 100, np.uint8))
        cv2.imwrite(str(root/'CelebAMask-HQ-mask-anno'/'0'/f'{i:05d}_skin.png'), np.pad(np.full((20, 20, 3), 255, np.uint8), ((10, 10), (10, 10), (0, 0))))
        cv2.imwrite(str(root/'CelebAMask-HQ-mask-anno'/'0'/f'{i:05d}_hair.png'), np.pad(np.full((5, 40, 3), 255, np.uint8), ((10, 25), (0, 0), (0, 0))))
    out = prepare(root, tmp_path/'out', val_fraction=0.4, workers=2)
    m = cv2.imread(str(out/'masks'/'3.png'), cv2.IMREAD_UNCHANGED)
    assert m.shape == (40, 40) and m[12, 20] == 0 and m[20, 20] == 255 and m[5, 5] == 0
    split = load_split(out)
    assert sorted(split['train'] + split['val']) == list(range(5)) and len(split['val']) == 2
    stamp = (out/'masks'/'3.png').stat().st_mtime_ns
    prepare(root, tmp_path/'out', val_fraction=0.4, workers=2)
    assert (out/'masks'/'3.png').stat().st_mtime_ns == stamp
    assert not [p for p in out.rglob('.*') if p.is_file()]  # no temporary files left

def test_random_affine_keeps_image_and_mask_aligned():
    rng = np.random.default_rng(0)
    img = np.zeros((80, 60, 3), np.uint8); img[20:50, 10:40] = 255
    mask = np.where(img[..., 0] > 0, 255, 0).astype(np.uint8)
    for _ in range(30):
        wi, wm = random_affine(img, mask, rng, 64)
        assert ((wi[..., 0] > 127) != (wm > 127)).mean() < 0.02

@needs_shared
def test_prepare_and_dataset_on_shared_faces(tmp_path):
    out = prepare(SHARED/'CelebAMask-HQ-mini', tmp_path/'p', limit=10, size=128)
    files = part_files(SHARED/'CelebAMask-HQ-mini')
    assert {'skin', 'nose'} <= set(files[0])
    ds = FaceMaskDataset(out, load_split(out)['train'], size=64, train=True)
    x, y = ds[0]
    assert x.shape == (3, 64, 64) and y.shape == (1, 64, 64) and torch.equal(y, ds[0][1])
    assert set(torch.unique(y).tolist()) == {0.0, 1.0}

def test_multipose_labels_become_a_partly_known_mask(tmp_path):
    "Eyes, nose and mouth are face, background is not, skin and hair are unknown (0.5 in the target); whole people are held out."
    import cv2
    from facemask.core import write_image
    from facemask.data import UNKNOWN, FaceMaskDataset, load_split, prepare_multipose
    labels = np.zeros((40, 30), np.uint8); labels[5:35, 5:25] = 1; labels[2:8, 5:25] = 2; labels[15:18, 8:12] = 3; labels[25:28, 10:20] = 5
    for person in ('p01', 'p04'):
        write_image(tmp_path/'mp'/'images'/f'{person}_yaw+45_1.jpg', np.full((40, 30, 3), 120, np.uint8))
        write_image(tmp_path/'mp'/'labels'/f'{person}_yaw+45_1.png', labels)
    out = prepare_multipose(tmp_path/'mp', tmp_path/'prepared', val_people=('p04',))
    assert load_split(out)['train'] == ['p01_yaw+45_1'] and load_split(out)['val'] == ['p04_yaw+45_1']
    mask = cv2.imread(str(out/'masks'/'p01_yaw+45_1.png'), cv2.IMREAD_GRAYSCALE)
    assert mask[0, 0] == 0 and mask[16, 9] == 255 and mask[26, 15] == 255 and mask[10, 10] == UNKNOWN and mask[4, 10] == UNKNOWN
    _, target = FaceMaskDataset(out, ['p01_yaw+45_1'], size=30)[0]
    assert set(target.unique().tolist()) == {0.0, 0.5, 1.0}

def test_data_root_env_then_own_data_then_shared_beside_the_checkout(tmp_path, monkeypatch):
    "$FACEMASK_DATA; else data/ (in Colab, or where it exists); else ../shared/data (../../shared/data from nbs/); else data/."
    import sys, types
    from pathlib import Path
    from facemask.data import data_root
    monkeypatch.delenv('FACEMASK_DATA', raising=False)
    monkeypatch.delitem(sys.modules, 'google.colab', raising=False)
    shared = tmp_path/'shared'/'data'; shared.mkdir(parents=True)
    for d in ('repo/nbs', 'a/b/c'): (tmp_path/d).mkdir(parents=True)
    monkeypatch.chdir(tmp_path/'repo'/'nbs'); assert data_root().resolve() == shared
    monkeypatch.chdir(tmp_path/'repo'); assert data_root().resolve() == shared
    monkeypatch.chdir(tmp_path/'a'/'b'/'c'); assert data_root() == Path('data')      # nothing anywhere: where the downloads go
    monkeypatch.chdir(tmp_path/'repo'); (tmp_path/'repo'/'data').mkdir(); assert data_root() == Path('data')
    monkeypatch.setitem(sys.modules, 'google.colab', types.ModuleType('google.colab'))
    monkeypatch.chdir(tmp_path/'repo'/'nbs'); assert data_root() == Path('data')   # Colab: its own data/, even with a shared copy above
    monkeypatch.setenv('FACEMASK_DATA', str(tmp_path/'drive')); assert data_root() == tmp_path/'drive'

def test_download_celebamask_hq_names_the_drive_file_and_unpacks_once(tmp_path, monkeypatch):
    import zipfile, gdown
    from facemask.data import download_celebamask_hq
    def refuse(**kw): raise RuntimeError('Too many users have viewed or downloaded this file recently')
    monkeypatch.setattr(gdown, 'download', refuse)
    with pytest.raises(OSError, match=r'drive\.google\.com/uc\?id=\w+: download failed \(Too many users.*try again later'):
        download_celebamask_hq(tmp_path)
    assert list(tmp_path.iterdir()) == []                                           # no partial zip
    with zipfile.ZipFile(tmp_path/'CelebAMask-HQ.zip', 'w') as z:                   # a zip put there by hand is used
        z.writestr('CelebAMask-HQ/CelebA-HQ-img/0.jpg', b'jpg'); z.writestr('CelebAMask-HQ/README.txt', '')
    root = download_celebamask_hq(tmp_path)
    assert root == tmp_path/'CelebAMask-HQ' and (root/'CelebA-HQ-img'/'0.jpg').read_bytes() == b'jpg'
    assert [p.name for p in tmp_path.iterdir()] == ['CelebAMask-HQ']                # the archive and the unpacking folder are gone
    assert download_celebamask_hq(tmp_path) == root                                 # unpacked: nothing fetched
