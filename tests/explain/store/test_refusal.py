"""A store never mixes runs: other arguments are refused with a message naming what differs;
a finished store is left as it is; a second writer and a foreign folder are refused."""

import fcntl

import pytest

from emolens.explain.store import index
from emolens.models import zoo
from tests.explain.store.helpers import index_args, run_cli, tiny_model_file


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("emolens index: error: ")
    return err[0]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(model path, a finished store of 16 synthetic faces with grad_cam maps)."""
    folder = tmp_path_factory.mktemp("refusal")
    path = tiny_model_file(folder)
    assert run_cli(index_args(path, folder / "store", 16)) == 0
    return path, folder / "store"


def _snapshot(store):
    return {p: p.read_bytes() for p in sorted(store.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    ("extra", "count", "named"),
    [
        (["--method", "grad_cam,saliency"], 16, "methods: ['grad_cam'] -> ['grad_cam', 'sal"),
        ([], 20, "data.num_images: 16 -> 20"),
        (["--layer", "conv1"], 16, "layer: None -> 'conv1'"),
        (["--map-dtype", "float16"], 16, "maps.dtype: 'uint8' -> 'float16'"),
        # same weights, other pixels: a range has no weights, so it is recorded by itself
        (["--input-range=-1,1"], 16, "model.input_range: None -> [-1.0, 1.0]"),
    ],
)
def test_a_rerun_with_other_arguments_is_refused_and_changes_nothing(
    built, capsys, extra, count, named
):
    path, store = built
    before = _snapshot(store)
    assert run_cli(index_args(path, store, count, *extra)) == 2
    message = _one_line_error(capsys)
    assert "was started with other arguments" in message
    assert named in message
    assert "pass another --out" in message
    assert _snapshot(store) == before


def test_a_rerun_of_a_finished_store_rewrites_nothing(built):
    path, store = built
    before = _snapshot(store)
    assert run_cli(index_args(path, store, 16)) == 0
    assert _snapshot(store) == before


def test_a_folder_that_is_not_a_store_is_refused(tmp_path, built, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert run_cli(index_args(built[0], tmp_path, 16)) == 2
    assert "is no emolens store" in _one_line_error(capsys)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_a_second_writer_is_refused_while_the_first_holds_the_store(tmp_path, built):
    store = tmp_path / "store"
    store.mkdir()
    with open(store / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ValueError, match="Another process is writing"):
            index(zoo.load(built[0]), "synthetic:8", out=store, classes="emo3")


def test_unknown_methods_and_bad_options_are_refused(tmp_path, built, capsys):
    assert run_cli(index_args(built[0], tmp_path / "a", 8, "--method", "grad_kam")) == 2
    assert "Known methods: grad_cam" in _one_line_error(capsys)
    with pytest.raises(SystemExit) as exit_info:  # refused while parsing, before any work
        run_cli(index_args(built[0], tmp_path / "b", 8, "--shard-size", "0"))
    assert exit_info.value.code == 2
    assert "argument --shard-size: must be at least 1; got 0" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()
    fer7 = index_args(built[0], tmp_path / "c", 8)
    fer7[fer7.index("emo3")] = "fer7"
    assert run_cli(fer7) == 2
    assert "disgust" in _one_line_error(capsys)  # synthetic faces cannot draw it


def test_a_store_of_a_model_without_class_names_says_how_to_name_them():
    from emolens.explain.store.writer import class_set_of

    assert class_set_of(("Angry", "happy", "SAD")) == "emo3"
    with pytest.raises(ValueError, match=r"no class names .*; pass the data's class set"):
        class_set_of(())  # before: "The model's classes () are no known class set"
    with pytest.raises(ValueError, match=r"classes \(neg, pos\) are no known class set.*emo3"):
        class_set_of(("neg", "pos"))
