import json
import numpy as np
from dataclasses import asdict
from conftest import REPO, SHARED, needs_shared
from facemask.train import TrainConfig

def test_default_config_file_matches_the_dataclass_defaults():
    "The shipped model's config file and TrainConfig() describe the same run, paths aside (the notebook's Colab cell relies on it)."
    cfg = {k: v for k, v in json.loads((REPO/'configs'/'default.json').read_text()).items() if k not in ('data', 'hands', 'out')}
    defaults = asdict(TrainConfig())
    assert {k: (tuple(v) if isinstance(v, list) else v) for k, v in cfg.items()} == {k: defaults[k] for k in cfg}

def test_unknown_object_textures_are_refused_before_any_file_is_read():
    import pytest
    from facemask.train import occlusion_transform
    with pytest.raises(ValueError, match="object_textures must be 'face_free' or 'anywhere', got 'faces'"):
        occlusion_transform(TrainConfig(data='no/such/data', hands='no/such/hands', object_textures='faces'), [])

def test_fine_tuning_starts_from_the_checkpoint_and_refuses_another_network(tmp_path):
    import pytest, torch
    from facemask.model import FaceSegmenter, ModelConfig, save_model
    from facemask.train import init_weights
    cfg = ModelConfig(decoder_channels=(16, 16, 8, 8, 8), input_size=64)
    trained = FaceSegmenter(cfg, pretrained=False)
    with torch.no_grad():
        for p in trained.parameters(): p.add_(torch.randn_like(p))
    save_model(trained, tmp_path/'trained.pt')
    tuned = init_weights(FaceSegmenter(ModelConfig(decoder_channels=(16, 16, 8, 8, 8), input_size=96), pretrained=False), tmp_path/'trained.pt')
    for a, b in zip(trained.state_dict().values(), tuned.state_dict().values()): assert torch.equal(a, b)
    with pytest.raises(ValueError, match=r'trained.pt: a mobilenet_v2 model .* this run builds resnet18 .* set backbone and decoder_channels to match'):
        init_weights(FaceSegmenter(ModelConfig(backbone='resnet18', decoder_channels=(16, 16, 8, 8, 8)), pretrained=False), tmp_path/'trained.pt')

@needs_shared
def test_the_training_seed_leaves_the_held_out_hands_alone():
    "Runs with other seeds must not train on the hands that evaluation holds out; only hand_split_seed moves them."
    from facemask.hands import hand_bank, split_bank
    from facemask.train import occlusion_transform
    hands = lambda **kw: [c.source for c in occlusion_transform(TrainConfig(hands=str(SHARED/'hands'), occlusion='random', **kw), []).bank]
    held_out = {c.source for c in split_bank(hand_bank(SHARED/'hands'), 0.25, 0)[1]}
    assert hands(seed=0) == hands(seed=1) and not held_out & set(hands(seed=1))
    assert held_out & set(hands(hand_split_seed=1))

def test_empty_dice_false_leaves_faceless_images_to_bce():
    "Dice on an image with no face punishes a 5% probability everywhere as much as a missed face; empty_dice=False does not."
    import torch, torch.nn.functional as F
    from facemask.train import bce_dice_loss
    empty, unsure = torch.zeros(2, 1, 16, 16), torch.full((2, 1, 16, 16), -3.0)
    assert bce_dice_loss(unsure, empty) > 0.9
    assert torch.isclose(bce_dice_loss(unsure, empty, empty_dice=False), F.binary_cross_entropy_with_logits(unsure, empty))

@needs_shared
def test_fit_presence_cli_adds_a_head_and_leaves_the_masks(tmp_path):
    import subprocess, sys, torch
    from facemask.core import read_image
    from facemask.data import prepare
    from facemask.inference import default_weights
    from facemask.model import load_model
    prepared = prepare(SHARED/'CelebAMask-HQ-mini', tmp_path/'prepared', limit=12)
    plain = tmp_path/'plain.pt'
    source = torch.load(default_weights(), weights_only=False)
    source['config']['presence'] = False
    source['state_dict'] = {k: v for k, v in source['state_dict'].items() if not k.startswith('presence.')}
    torch.save(source, plain)
    r = subprocess.run([sys.executable, '-c', 'import sys; from facemask.cli import main; sys.exit(main())', 'fit-presence', str(plain), '-o', str(tmp_path/'fitted.pt'),
                        '--data', str(prepared), '--noface', str(SHARED/'no-face'), '--limit', '8', '--harder', '2', '--roll', '1'], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'of the face crops' in r.stdout
    fitted, before = load_model(tmp_path/'fitted.pt'), load_model(plain)
    assert fitted.config.presence and not before.config.presence
    ckpt = torch.load(tmp_path/'fitted.pt', weights_only=False)
    assert ckpt['fitted_presence']['noface_photos'] == 8 and ckpt['fitted_presence']['harder'] == 2 and next(iter(ckpt['state_dict'].values())).dtype == torch.float16
    assert ckpt['fitted_presence']['roll'] == 1 and ckpt['fitted_presence']['face_crops'] > 8 * 3  # 8 faces and 16 harder copies, and turned copies of them
    image = read_image(SHARED/'CelebAMask-HQ-mini'/'CelebA-HQ-img'/'0.jpg')
    probs, score = fitted.predict_proba(image, presence=True)
    assert np.array_equal(probs, before.predict_proba(image)) and score > 0.5
    r = subprocess.run([sys.executable, '-c', 'import sys; from facemask.cli import main; sys.exit(main())', 'fit-presence', str(plain), '-o', str(tmp_path/'x.pt'),
                        '--data', str(tmp_path/'nowhere')], capture_output=True, text=True)
    assert r.returncode == 1 and 'nowhere: no such file or folder' in r.stderr

def test_blend_cli_writes_the_weighted_mean_and_names_bad_input(tmp_path):
    "facemask blend: a fine-tune's share of the weights, the head left out; a missing file or another network is named, nothing written."
    import dataclasses, subprocess, sys, torch
    from facemask.model import FaceSegmenter, ModelConfig, load_model, save_model
    small = ModelConfig(decoder_channels=(16, 16, 8, 8, 8))
    nets = [FaceSegmenter(c, pretrained=False) for c in (small, dataclasses.replace(small, presence=True), ModelConfig(backbone='resnet18', decoder_channels=small.decoder_channels))]
    with torch.no_grad():
        for net in nets:
            for p in net.parameters(): p.add_(torch.randn_like(p))
    for net, name in zip(nets, ('base', 'tuned', 'other')): save_model(net, tmp_path/f'{name}.pt')
    cli = [sys.executable, '-c', 'import sys; from facemask.cli import main; sys.exit(main())', 'blend']
    r = subprocess.run(cli + [str(tmp_path/'base.pt'), str(tmp_path/'tuned.pt'), '-o', str(tmp_path/'blend.pt'), '--weight', '0.25'], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    blend, (base, tuned) = load_model(tmp_path/'blend.pt'), nets[:2]
    assert blend.presence is None and not blend.config.presence
    for k, v in blend.state_dict().items():
        if v.is_floating_point(): assert torch.allclose(v, 0.75 * base.state_dict()[k] + 0.25 * tuned.state_dict()[k], atol=1e-5), k
    assert torch.load(tmp_path/'blend.pt', weights_only=False)['blend']['weight'] == 0.25
    for args, says in (([str(tmp_path/'base.pt'), str(tmp_path/'nowhere.pt')], 'nowhere.pt: no such file'),
                       ([str(tmp_path/'base.pt'), str(tmp_path/'other.pt')], 'hold different networks')):
        r = subprocess.run(cli + args + ['-o', str(tmp_path/'bad.pt')], capture_output=True, text=True)
        assert r.returncode == 1 and says in r.stderr, r.stderr[-2000:]
    assert not (tmp_path/'bad.pt').exists()
