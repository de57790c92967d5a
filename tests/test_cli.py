import json
import pytest
from conftest import SHARED, needs_shared

@needs_shared
def test_evaluate_scores_weights_of_your_own(tmp_path):
    "`facemask evaluate --weights CKPT` scores that checkpoint; the float32 checkpoint is the default only without weights."
    from facemask.cli import main
    from facemask.data import prepare
    from facemask.inference import default_weights
    data = prepare(SHARED/'CelebAMask-HQ-mini', tmp_path/'prepared', size=128, limit=12)
    args = ['evaluate', '--data', str(data), '--weights', str(default_weights(accurate=True)), '--hands', str(SHARED/'hands'), '--limit', '2', '--device', 'cpu', '-o', str(tmp_path/'report.json')]
    assert main(args) == 0
    report = json.loads((tmp_path/'report.json').read_text())
    assert set(report) == {'clean', 'hands'} and report['clean']['n'] == 2 and report['clean']['pooled_iou'] > 0.8

def test_predict_any_angle_finds_a_face_on_its_side(tmp_path, masker, hopper):
    "`facemask predict --any-angle`: the example photo on its side gets the upright photo's mask, turned; without it the default loses most of the face; --bulk and --no-presence refuse it."
    import numpy as np
    from facemask.cli import main
    from facemask.core import read_mask, write_image
    write_image(tmp_path/'side.jpg', np.ascontiguousarray(np.rot90(hopper)))
    truth = np.rot90(masker.predict(hopper)) > 0
    iou = lambda m: (m & truth).sum() / (m | truth).sum()
    assert main(['predict', str(tmp_path/'side.jpg'), '-o', str(tmp_path/'plain'), '--device', 'cpu']) == 0
    assert main(['predict', str(tmp_path/'side.jpg'), '-o', str(tmp_path/'any'), '--any-angle', '--device', 'cpu']) == 0
    plain, turned = (read_mask(tmp_path/d/'side.png') > 0 for d in ('plain', 'any'))
    assert iou(turned) > 0.95 and iou(plain) < 0.5, (iou(turned), iou(plain))
    with pytest.raises(SystemExit, match='--any-angle not supported'): main(['predict', str(tmp_path/'side.jpg'), '-o', str(tmp_path/'bulk'), '--bulk', '--any-angle'])
    with pytest.raises(SystemExit, match='give one of them'): main(['predict', str(tmp_path/'side.jpg'), '-o', str(tmp_path/'np'), '--any-angle', '--no-presence'])
    assert not (tmp_path/'np').exists()

def test_predict_recursive_mirrors_subfolders(tmp_path, hopper, capsys):
    "`facemask predict FOLDER`: subfolders are named in a note and left alone; `-r` masks them into the same subfolders, on the default and --bulk paths."
    import cv2
    from facemask.cli import main
    from facemask.core import write_image
    for name in ('alice/1.jpg', 'bob/1.jpg', 'bob/2019/2.jpg'): write_image(tmp_path/'lib'/name, cv2.resize(hopper, (64, 75)))
    assert main(['predict', str(tmp_path/'lib'), '-o', str(tmp_path/'out'), '--device', 'cpu']) == 1
    assert '2 subfolders with images or videos not searched (alice, bob): add --recursive' in capsys.readouterr().out
    for flags in ([], ['--bulk']):
        out = tmp_path/f"out{''.join(flags)}"
        assert main(['predict', str(tmp_path/'lib'), '-o', str(out), '-r', '--device', 'cpu', *flags]) == 0
        assert sorted(str(p.relative_to(out)) for p in out.rglob('*.png')) == ['alice/1.png', 'bob/1.png', 'bob/2019/2.png']

def test_predict_into_one_file(tmp_path, hopper, capsys):
    "`facemask predict photo.jpg -o mask.png` and `clip.mp4 -o mask.mp4` write that file; a file named for several inputs, or for the other kind, is refused before any work."
    import av
    from conftest import make_clip
    from facemask.cli import main
    from facemask.core import read_mask, write_image
    write_image(tmp_path/'a.jpg', hopper); write_image(tmp_path/'b.jpg', hopper)
    assert main(['predict', str(tmp_path/'a.jpg'), '-o', str(tmp_path/'folder'), '--device', 'cpu']) == 0
    assert main(['predict', str(tmp_path/'a.jpg'), '-o', str(tmp_path/'mask.png'), '--device', 'cpu']) == 0
    assert (read_mask(tmp_path/'mask.png') == read_mask(tmp_path/'folder'/'a.png')).all()
    clip = make_clip(tmp_path/'clip.mp4', hopper, seconds=0.3, size=(96, 112), audio=None)
    assert main(['predict', str(clip), '-o', str(tmp_path/'masks'/'clip_mask.mp4'), '--device', 'cpu']) == 0
    with av.open(str(tmp_path/'masks'/'clip_mask.mp4')) as c: assert c.streams.video[0].frames == 3
    for inputs, out, says in (([tmp_path/'a.jpg', tmp_path/'b.jpg'], 'two.png', 'names one file, but 2 inputs were found'),
                              ([tmp_path/'a.jpg'], 'a.mp4', 'a video file for the picture'), ([clip], 'c.png', 'a picture file for the video')):
        with pytest.raises(SystemExit, match=says): main(['predict', *map(str, inputs), '-o', str(tmp_path/out), '--device', 'cpu'])
        assert not (tmp_path/out).exists()
    with pytest.raises(SystemExit, match='--weights nope.pt: no such file'): main(['predict', str(tmp_path/'a.jpg'), '-o', str(tmp_path/'x'), '--weights', 'nope.pt'])

def test_predict_rerun_into_the_photos_own_folder(tmp_path, hopper, capsys):
    "`facemask predict photos/ -o photos/` run again skips every finished file: its masks, overlays, cut-outs, mask videos and per-frame masks are not taken for inputs."
    import cv2
    from conftest import make_clip
    from facemask.cli import main
    from facemask.core import write_image
    own = tmp_path/'own'
    for name in ('a.jpg', 'b.jpg'): write_image(own/name, cv2.resize(hopper, (64, 75)))
    make_clip(own/'clip.mov', hopper, seconds=0.3, size=(96, 112), audio=None)
    run = lambda *flags: (main(['predict', str(own), '-o', str(own), '--device', 'cpu', *flags]), capsys.readouterr().out)
    assert run('--overlay', '--cutout')[0] == 0
    assert run('--frames')[0] == 0 and (own/'clip'/'000002.png').exists()
    for flags, left_out in ((['--overlay', '--cutout'], '8 files'), (['--soft'], '8 files'), (['-r', '--frames'], '11 files'), (['--bulk'], '8 files')):
        rc, said = run(*flags)
        assert rc == 0 and said.splitlines()[-1].startswith('0 written, 3 skipped'), (flags, said)
        assert f'note: {left_out} left out as the outputs of an earlier run for other inputs' in said, (flags, said)
    assert sorted(p.name for p in own.iterdir()) == ['a.jpg', 'a.png', 'a_cutout.png', 'a_overlay.jpg', 'b.jpg', 'b.png', 'b_cutout.png', 'b_overlay.jpg',
                                                     'clip', 'clip.mov', 'clip.mp4', 'clip_overlay.mp4']
