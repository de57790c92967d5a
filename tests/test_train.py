import json
from dataclasses import asdict
from conftest import REPO
from facemask.train import TrainConfig

def test_default_config_file_matches_the_dataclass_defaults():
    "The shipped model's config file and TrainConfig() describe the same run, paths aside (the notebook's Colab cell relies on it)."
    cfg = {k: v for k, v in json.loads((REPO/'configs'/'default.json').read_text()).items() if k not in ('data', 'hands', 'out')}
    defaults = asdict(TrainConfig())
    assert {k: (tuple(v) if isinstance(v, list) else v) for k, v in cfg.items()} == {k: defaults[k] for k in cfg}
