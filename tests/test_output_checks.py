"""gantheory.util.io.check_output_file and check_output_dir: output paths refused before work."""

import pytest

from gantheory.errors import ConfigError, OutputError
from gantheory.util.io import check_output_dir, check_output_file, figure_formats
from tests.readonly import read_only_folder


def test_figure_formats_hold_the_usual_ones():
    assert {"png", "pdf", "svg"} <= figure_formats() and "xyz" not in figure_formats()


def test_a_good_path_passes_and_nothing_is_left_behind(tmp_path):
    assert check_output_file(tmp_path / "new" / "f.png", "--plot", formats=figure_formats())
    assert check_output_dir(tmp_path / "rep" / "sub", "--report")
    assert list(tmp_path.iterdir()) == []  # the probe is gone and no folder was made


@pytest.mark.parametrize("make, call, exc, says", [
    (None, lambda p: check_output_file(p / "f.xyz", "--plot", formats=figure_formats()),
     ConfigError, "unknown format 'xyz'"),
    (lambda p: (p / "d").mkdir(), lambda p: check_output_file(p / "d", "--plot"), OutputError,
     "is a folder"),
    (lambda p: (p / "f").write_text("x"), lambda p: check_output_dir(p / "f", "--report"),
     OutputError, "not a folder"),
    (lambda p: (p / "f").write_text("x"), lambda p: check_output_file(p / "f" / "g.png", "--plot"),
     OutputError, "is not a folder"),
    (lambda p: (p / "f.png").write_text("x"),
     lambda p: check_output_file(p / "f.png", "--out", overwrite=False), OutputError, "exists"),
])
def test_bad_output_paths_are_refused_in_one_line(make, call, exc, says, tmp_path):
    if make:
        make(tmp_path)
    with pytest.raises(exc, match=says) as info:
        call(tmp_path)
    assert "\n" not in str(info.value)


def test_a_read_only_folder_is_refused(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    with read_only_folder(ro):
        with pytest.raises(OutputError, match="cannot write --plot"):
            check_output_file(ro / "p.png", "--plot")
        with pytest.raises(OutputError, match="cannot write --report"):
            check_output_dir(ro / "rep", "--report")
