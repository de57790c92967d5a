"`mask_files_ray` on a local Ray instance with 2 CPUs: the same files, summary and masks as `FaceMasker.mask_files`."
import errno, subprocess, sys
import av, cv2
import numpy as np
import pytest
from conftest import REPO, make_clip

ray = pytest.importorskip('ray', reason='the ray extra is not installed: pip install "facemask[ray]"')
import facemask.inference
from facemask.cluster import MaskWorker, _ray, collect_statuses, mask_files_ray, size_pool
from facemask.core import read_image, write_image

@pytest.fixture(scope='module')
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False)
    yield
    ray.shutdown()

def make_photos(folder, hopper):
    "Four small copies of the example photo, a download cut short, and a second file named `hopper0`."
    folder.mkdir()
    for i, width in enumerate((96, 128, 160, 112)): write_image(folder/f'hopper{i}.jpg', cv2.resize(hopper, (width, width * 600 // 512)))
    (folder/'broken.jpg').write_bytes((REPO/'examples'/'grace_hopper.jpg').read_bytes()[:2000])
    write_image(folder/'hopper0.png', cv2.resize(hopper, (64, 75)))
    return folder

def test_same_outcome_as_one_machine(local_ray, masker, hopper, tmp_path):
    src, lines = make_photos(tmp_path/'in', hopper), []
    s = mask_files_ray([src], tmp_path/'ray', overlay_on=True, cutout_on=True, batch_size=2, progress=False, log=lines.append)
    one = masker.mask_files([src], tmp_path/'one', overlay_on=True, cutout_on=True, progress=False, log=lambda line: None)
    assert sorted(s['written']) == sorted(one['written']) == [str(src/f'hopper{i}.jpg') for i in range(4)]
    assert sorted(s['failed']) == sorted(one['failed']) and len(s['failed']) == 2
    assert any(m.startswith(f"{src/'broken.jpg'}: unreadable image") for m in s['failed'])
    assert f"{src/'hopper0.png'}: output name hopper0.png already taken by {src/'hopper0.jpg'}" in s['failed']
    assert lines[-1] == f"4 written, 0 skipped (already done), 2 failed -> {tmp_path/'ray'}"
    assert sum(line.startswith('error: ') for line in lines) == 2
    for i in range(4):
        for name in (f'hopper{i}.png', f'hopper{i}_overlay.jpg', f'hopper{i}_cutout.png'):
            np.testing.assert_array_equal(read_image(tmp_path/'ray'/name), read_image(tmp_path/'one'/name))
        np.testing.assert_array_equal(read_image(tmp_path/'ray'/f'hopper{i}.png')[..., 0], masker.predict(src/f'hopper{i}.jpg'))
    assert not list((tmp_path/'ray').glob('.*'))  # no temporary files left behind

    again = mask_files_ray([src], tmp_path/'ray', overlay_on=True, cutout_on=True, batch_size=2, progress=False, log=lines.append)
    assert (again['written'], sorted(again['skipped']), sorted(again['failed'])) == ([], sorted(s['written']), sorted(s['failed']))

def test_pool_size():
    assert size_pool({'CPU': 16.0, 'GPU': 2.0}, batches=100) == (2, None, 1)  # one actor per GPU, CPUs left to Ray
    assert size_pool({'CPU': 16.0, 'GPU': 1.0}, batches=100, gpus_per_actor=0.25) == (4, None, 0.25)
    assert size_pool({'CPU': 16.0}, batches=5, cpus_per_actor=2) == (5, 2, 0)
    assert size_pool({'CPU': 16.0}, batches=100, num_actors=3) == (3, 1, 0)
    with pytest.raises(ValueError, match='gpus_per_actor=0.5, but the Ray cluster has no GPUs'): size_pool({'CPU': 2.0}, 100, gpus_per_actor=0.5)

def test_nothing_to_do_starts_no_work(masker, hopper, tmp_path):
    write_image(tmp_path/'in'/'a.jpg', cv2.resize(hopper, (64, 75)))
    masker.mask_files([tmp_path/'in'], tmp_path/'out', progress=False, log=lambda line: None)
    s = mask_files_ray([tmp_path/'in'], tmp_path/'out', log=lambda line: None)
    assert s == {'written': [], 'skipped': [str(tmp_path/'in'/'a.jpg')], 'failed': []}

def test_videos_are_masked_by_a_worker(local_ray, masker, hopper, tmp_path):
    clip = make_clip(tmp_path/'clip.mp4', hopper, seconds=0.5, size=(96, 112), audio=None)
    s = mask_files_ray([clip], tmp_path/'out', progress=False, log=lambda line: None)
    assert s['written'] == [str(clip)] and not s['failed']
    with av.open(str(tmp_path/'out'/'clip.mp4')) as c: assert c.streams.video[0].frames == 5

def test_subfolders_on_ray(local_ray, masker, hopper, tmp_path):
    for name in ('top.jpg', 'alice/1.jpg', 'bob/1.jpg', 'bob/2019/2.jpg'): write_image(tmp_path/'in'/name, cv2.resize(hopper, (64, 75)))
    notes = []
    s = mask_files_ray([tmp_path/'in'], tmp_path/'out', progress=False, log=notes.append)
    assert s['written'] == [str(tmp_path/'in'/'top.jpg')] and notes[0].startswith(f"note: {tmp_path/'in'}: 2 subfolders")
    s = mask_files_ray([tmp_path/'in'], tmp_path/'out', recursive=True, batch_size=2, progress=False, log=lambda line: None)
    assert sorted(s['written']) == [str(tmp_path/'in'/n) for n in ('alice/1.jpg', 'bob/1.jpg', 'bob/2019/2.jpg')] and not s['failed']
    assert sorted(str(p.relative_to(tmp_path/'out')) for p in (tmp_path/'out').rglob('*.png')) == ['alice/1.png', 'bob/1.png', 'bob/2019/2.png', 'top.png']
    np.testing.assert_array_equal(read_image(tmp_path/'out'/'bob'/'2019'/'2.png')[..., 0], masker.predict(tmp_path/'in'/'bob'/'2019'/'2.jpg'))

def test_full_disk_stops_the_run(masker, hopper, tmp_path, monkeypatch):
    for name in ('a', 'b'): write_image(tmp_path/'in'/f'{name}.jpg', cv2.resize(hopper, (64, 75)))
    def full(path, image): raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(facemask.inference, 'write_image', full)
    rows = MaskWorker(batch_size=2)({'path': np.array([str(tmp_path/'in'/'a.jpg'), str(tmp_path/'in'/'b.jpg')]), 'out': np.array([str(tmp_path/'out'), str(tmp_path/'out'/'b')])})
    assert rows['status'].tolist() == ['stopped']
    s = collect_statuses([dict(status=k, detail=v) for k, v in zip(rows['status'], rows['detail'])],
                         {'written': [], 'skipped': [], 'failed': []}, total=2, log=lambda line: None)
    assert s['stopped'].startswith(f"{tmp_path/'in'/'a.jpg'}: no space left on device for its outputs in {tmp_path/'out'}; stopped after 0 of 2 files")

def test_clear_errors_before_any_work(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match='nope.pt: no such file'): mask_files_ray([tmp_path], tmp_path/'out', weights=tmp_path/'nope.pt')
    monkeypatch.setitem(sys.modules, 'ray', None)
    with pytest.raises(ImportError, match=r'pip install "facemask\[ray\]"'): _ray()

def test_cli_on_ray(local_ray, masker, hopper, tmp_path):
    src, address = make_photos(tmp_path/'in', hopper), ray.get_runtime_context().gcs_address
    facemask = str(REPO/'.venv'/'bin'/'facemask') if (REPO/'.venv'/'bin'/'facemask').exists() else 'facemask'
    predict = lambda: subprocess.run([facemask, 'predict', src, '-o', tmp_path/'out', '--batch-size', '2', '--ray', address], capture_output=True, text=True)
    r = predict()
    assert r.returncode == 1 and '4 written, 0 skipped (already done), 2 failed' in r.stdout, r.stdout + r.stderr[-3000:]
    assert f"error: {src/'broken.jpg'}: unreadable image" in r.stdout
    np.testing.assert_array_equal(read_image(tmp_path/'out'/'hopper1.png')[..., 0], masker.predict(src/'hopper1.jpg'))
    r = predict()
    assert r.returncode == 1 and '0 written, 4 skipped (already done), 2 failed' in r.stdout, r.stdout + r.stderr[-3000:]
