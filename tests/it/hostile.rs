//! The `sparsify` binary against a careful but unkind user (issue 8, "Hostile input"): outputs
//! that are devices, FIFOs, symlinks, inputs or each other; signals at every phase; `.npy`
//! headers that lie; sizes beyond the machine; bytes that would steer the terminal.
//!
//! Every case runs the real binary (built once, see `cli.rs`), except the `.npy` mutation
//! sweep, which calls the same library in-process to afford its 3,000 cases.

use std::fs;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use crate::cli::{listing, run_in, sparsify_bin, text};
use crate::common::read_json;

/// A fast run: 50 weights die within a few hundred steps at lambda = 1e-2.
const FAST: [&str; 4] = ["--m", "50", "--lambda", "1e-2"];

/// Runs `sparsify <args>` (any subcommand) in `dir`.
fn sparsify_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(sparsify_bin())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("the sparsify binary starts")
}

/// `args` followed by `extra`.
fn with(args: &[&str], extra: &[&str]) -> Vec<String> {
    args.iter().chain(extra).map(|s| (*s).to_owned()).collect()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// No staging directory or temporary file of ours is left in `dir`.
fn assert_no_staging(dir: &Path) {
    let left: Vec<String> = listing(dir)
        .into_iter()
        .filter(|n| n.starts_with(".sparsify-"))
        .collect();
    assert!(
        left.is_empty(),
        "left behind in {}: {left:?}",
        dir.display()
    );
}

/// Exit 2 with one `error:` line naming every word of `words`, and nothing else changed in
/// `dir` (same entries, same contents).
fn assert_refused(dir: &Path, out: &Output, words: &[&str]) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr {stderr:?}");
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(stderr.starts_with("error: "), "{stderr:?}");
    for w in words {
        assert!(stderr.contains(w), "{stderr:?} does not mention {w:?}");
    }
    assert!(
        !stderr.contains(".sparsify-"),
        "a temporary name leaked: {stderr:?}"
    );
    assert_no_staging(dir);
}

/// A snapshot of the regular files in `dir`: name and content.
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    listing(dir)
        .into_iter()
        .filter_map(|n| {
            let p = dir.join(&n);
            let md = fs::symlink_metadata(&p).ok()?;
            md.is_file().then(|| (n, fs::read(&p).unwrap_or_default()))
        })
        .collect()
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs")
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

// ----------------------------------------------------------------------------------------------
// Outputs.

#[cfg(unix)]
#[test]
fn a_symlinked_output_replaces_its_target_and_keeps_the_link() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    fs::create_dir(d.join("real")).expect("dir");
    fs::write(d.join("real/target.json"), "old").expect("target");
    std::os::unix::fs::symlink("real/target.json", d.join("s.json")).expect("link");
    // A dangling link is followed too: its target is created.
    std::os::unix::fs::symlink("real/new.csv", d.join("t.csv")).expect("link");
    let out = run_in(
        d,
        &with(&FAST, &["--summary", "s.json", "--trajectory", "t.csv"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for link in ["s.json", "t.csv"] {
        let md = fs::symlink_metadata(d.join(link)).expect("link");
        assert!(md.file_type().is_symlink(), "{link} is no longer a symlink");
    }
    let s = read_json(&d.join("real/target.json"));
    assert_eq!(s["command"], "run");
    assert_eq!(s["final_m_prime"], 1);
    let csv = fs::read_to_string(d.join("real/new.csv")).expect("created through the link");
    assert!(csv.starts_with("step,t,m_prime"), "{csv}");
    assert_no_staging(d);
    assert_no_staging(&d.join("real"));
}

#[cfg(unix)]
#[test]
fn a_device_output_is_written_through_not_replaced() {
    use std::os::unix::fs::FileTypeExt;
    // /dev/null through a link in the test's own directory: were the device replaced, the
    // damage would stay in the temporary directory... and the link check would fail.
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::os::unix::fs::symlink("/dev/null", d.join("null.csv")).expect("link");
    let out = run_in(
        d,
        &strs(&with(
            &FAST,
            &[
                "--trajectory",
                "null.csv",
                "--deaths",
                "null.csv",
                "--summary",
                "s.json",
            ],
        )),
    );
    // Several outputs may share one character device (both go to /dev/null).
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        fs::symlink_metadata(d.join("null.csv"))
            .expect("link")
            .file_type()
            .is_symlink()
    );
    assert!(
        fs::metadata("/dev/null")
            .expect("/dev/null")
            .file_type()
            .is_char_device()
    );
    assert_eq!(read_json(&d.join("s.json"))["final_m_prime"], 1);
    assert_eq!(listing(d), ["null.csv", "s.json"]);
}

#[cfg(unix)]
#[test]
fn a_fifo_output_is_written_through_and_stays_a_fifo() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let fifo = d.join("pipe.json");
    mkfifo(&fifo);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read_to_string(fifo).expect("read the fifo"))
    };
    let out = run_in(d, &strs(&with(&FAST, &["--summary", "pipe.json"])));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let got = reader.join().expect("reader");
    let json: serde_json::Value = serde_json::from_str(&got).expect("JSON through the fifo");
    assert_eq!(json["final_m_prime"], 1);
    assert!(
        fs::symlink_metadata(&fifo)
            .expect("fifo")
            .file_type()
            .is_fifo()
    );
    assert_eq!(listing(d), ["pipe.json"]);
}

#[cfg(unix)]
#[test]
fn an_output_that_is_the_input_is_refused_however_it_is_spelled() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let weights = "0.5\n0.25\n0.125\n";
    fs::write(d.join("w0.txt"), weights).expect("input");
    std::os::unix::fs::symlink("w0.txt", d.join("link.json")).expect("link");
    fs::hard_link(d.join("w0.txt"), d.join("hard.json")).expect("hard link");
    let absolute = d.join("w0.txt").to_string_lossy().into_owned();
    for (output, run) in [
        ("w0.txt", true),
        ("./w0.txt", true),
        (absolute.as_str(), true),
        ("link.json", true),
        ("hard.json", true),
        ("./w0.txt", false),
        ("link.json", false),
    ] {
        let before = contents(d);
        let out = if run {
            run_in(
                d,
                &[
                    "--init-file",
                    "w0.txt",
                    "--lambda",
                    "1e-2",
                    "--summary",
                    output,
                ],
            )
        } else {
            sparsify_in(
                d,
                &[
                    "predict",
                    "--init-file",
                    "w0.txt",
                    "--lambda",
                    "1e-2",
                    "--out",
                    output,
                ],
            )
        };
        assert_refused(
            d,
            &out,
            &["--init-file", "w0.txt", "an output never replaces an input"],
        );
        assert_eq!(contents(d), before, "{output}: a file changed");
        assert_eq!(
            fs::read_to_string(d.join("w0.txt")).expect("input"),
            weights
        );
    }
}

#[cfg(unix)]
#[test]
fn two_spellings_of_one_output_are_refused_before_the_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::os::unix::fs::symlink("same.csv", d.join("alias.csv")).expect("link");
    let absolute = d.join("same.csv").to_string_lossy().into_owned();
    for other in [
        "./same.csv",
        absolute.as_str(),
        "alias.csv",
        "sub/../same.csv",
    ] {
        fs::create_dir_all(d.join("sub")).expect("sub");
        let out = run_in(
            d,
            &strs(&with(
                &FAST,
                &["--trajectory", "same.csv", "--deaths", other],
            )),
        );
        assert_refused(d, &out, &["--trajectory", "--deaths", "the same file"]);
        assert!(!d.join("same.csv").exists(), "{other}");
    }
    let out = sparsify_in(
        d,
        &[
            "predict",
            "--m",
            "100",
            "--out",
            "same.csv",
            "--summary",
            "./same.csv",
        ],
    );
    assert_refused(d, &out, &["--out", "--summary", "the same file"]);
}

#[cfg(unix)]
#[test]
fn outputs_in_no_directory_or_naming_one_are_refused_before_the_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    fs::create_dir(d.join("sub")).expect("sub");
    std::os::unix::fs::symlink("missing/x.csv", d.join("dangling.csv")).expect("link");
    let cases: &[(&str, &str)] = &[
        ("missing/t.csv", "not an existing directory"),
        ("t.csv/", "is a directory"),
        ("sub", "is a directory"),
        ("..", "is a directory"),
        ("dangling.csv", "not an existing directory"),
    ];
    for (path, why) in cases {
        let before = listing(d);
        let out = run_in(d, &strs(&with(&FAST, &["--trajectory", path])));
        assert_refused(d, &out, &["--trajectory", path, why]);
        assert_eq!(listing(d), before);
    }
}

#[cfg(target_os = "linux")]
#[test]
fn when_one_output_fails_no_file_is_replaced() {
    // /dev/full fails every write with ENOSPC: a disk that is full, for one output only.
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    fs::write(d.join("t.csv"), "old trajectory").expect("old");
    std::os::unix::fs::symlink("/dev/full", d.join("full.json")).expect("link");
    let out = run_in(
        d,
        &strs(&with(
            &FAST,
            &[
                "--trajectory",
                "t.csv",
                "--deaths",
                "d.csv",
                "--summary",
                "full.json",
            ],
        )),
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(74), "{stderr}");
    assert!(
        stderr.contains("full.json") && !stderr.contains(".sparsify-"),
        "{stderr}"
    );
    assert_eq!(
        fs::read_to_string(d.join("t.csv")).expect("kept"),
        "old trajectory"
    );
    assert!(!d.join("d.csv").exists());
    assert_no_staging(d);
}

// ----------------------------------------------------------------------------------------------
// Signals.

/// Starts `sparsify <args>` in `dir` and waits until its outputs are staged (after the signal
/// handling is installed, which is the first thing it does).
#[cfg(unix)]
fn start_staged(dir: &Path, args: &[&str]) -> Child {
    let child = Command::new(sparsify_bin())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the sparsify binary starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !listing(dir).iter().any(|n| n.starts_with(".sparsify-")) {
        assert!(Instant::now() < deadline, "no staged output appeared");
        std::thread::sleep(Duration::from_millis(5));
    }
    child
}

#[cfg(unix)]
fn signal(child: &Child, name: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("kill runs")
        .success();
    assert!(ok, "kill -{name}");
}

/// Waits for `child` (sending `resend` every 100 ms if given), failing after 60 s.
#[cfg(unix)]
fn finish(mut child: Child, resend: Option<&str>) -> (ExitStatus, String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("sparsify did not stop");
        }
        if let Some(name) = resend {
            signal(&child, name);
            std::thread::sleep(Duration::from_millis(100));
        } else {
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    let out = child.wait_with_output().expect("output");
    (status, text(&out.stderr))
}

#[cfg(unix)]
#[test]
fn sigterm_is_handled_like_ctrl_c_with_exit_143() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    // lambda = 1e-12 needs far more steps than this test waits for.
    let child = start_staged(
        d,
        &[
            "run",
            "--m",
            "1e4",
            "--lambda",
            "1e-12",
            "--trajectory",
            "t.csv",
            "--summary",
            "s.json",
        ],
    );
    signal(&child, "TERM");
    let (status, stderr) = finish(child, None);
    assert_eq!(status.code(), Some(143), "{status}: {stderr}");
    assert_eq!(listing(d), ["s.json", "t.csv"]);
    let s = read_json(&d.join("s.json"));
    assert_eq!(s["complete"], false);
    assert_eq!(s["stop_reason"], "interrupted");
}

#[cfg(unix)]
#[test]
fn a_second_signal_exits_removing_staged_outputs_and_keeping_old_files() {
    // The summary goes to a FIFO that nobody reads: the run ends, the trajectory is staged,
    // and opening the FIFO blocks. The first signal cannot unblock it; the second exits.
    for (name, code) in [("INT", 130), ("TERM", 143)] {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        fs::write(d.join("t.csv"), "old").expect("old");
        mkfifo(&d.join("s.json"));
        let child = start_staged(
            d,
            &strs(&with(
                &["run"],
                &with(&FAST, &["--trajectory", "t.csv", "--summary", "s.json"])
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>(),
            )),
        );
        let (status, stderr) = finish(child, Some(name));
        assert_eq!(status.code(), Some(code), "{name}: {status}: {stderr}");
        assert_eq!(fs::read_to_string(d.join("t.csv")).expect("old"), "old");
        assert_no_staging(d);
    }
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_set_up_at_m_1e8_stops_it_and_writes_nothing() {
    // Drawing, sorting and summing 1e8 weights takes seconds; the signal is sent as soon as
    // the outputs are staged, before the set-up starts. Had the set-up ignored it, the run
    // would have reached its loop and written every output ("interrupted at step 0").
    for args in [
        &[
            "run",
            "--m",
            "1e8",
            "--parallel-init",
            "--method",
            "reduced",
            "--summary",
            "s.json",
        ][..],
        &[
            "run",
            "--m",
            "1e8",
            "--method",
            "reduced",
            "--summary",
            "s.json",
        ][..],
        &[
            "predict", "--m", "1e8", "--lambda", "1e-8", "--out", "s.json",
        ][..],
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        let child = start_staged(d, args);
        signal(&child, "INT");
        let (status, stderr) = finish(child, None);
        assert_eq!(status.code(), Some(130), "{args:?}: {status}: {stderr}");
        assert!(stderr.contains("interrupted while"), "{args:?}: {stderr}");
        assert!(stderr.contains("nothing was written"), "{args:?}: {stderr}");
        assert_eq!(listing(d), Vec::<String>::new(), "{args:?}");
    }
}

// ----------------------------------------------------------------------------------------------
// Sizes.

#[test]
fn sizes_beyond_the_machine_are_refused_naming_the_memory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    // 1e12 weights need 8 TB, more than any machine this runs on; nothing is allocated.
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["run", "--m", "1e12"],
            &["--m 1000000000000", "memory", "TB", "available"],
        ),
        (
            &[
                "run",
                "--m",
                "1e12",
                "--parallel-init",
                "--method",
                "reduced",
            ],
            &["--m", "memory"],
        ),
        (
            &["predict", "--m", "1e12", "--out", "p.csv"],
            &["--m", "memory"],
        ),
        (
            &[
                "predict",
                "--continuum",
                "--points-per-decade",
                "1e12",
                "--out",
                "p.csv",
            ],
            &["--points-per-decade", "memory"],
        ),
        (&["run", "--m", "9007199254740993"], &["--m", "2^53"]),
        (&["run", "--m", "1e16"], &["--m", "2^53"]),
    ];
    for (args, words) in cases {
        let out = sparsify_in(d, args);
        assert_refused(d, &out, words);
        assert!(listing(d).is_empty(), "{args:?}");
    }
}

// ----------------------------------------------------------------------------------------------
// `.npy` input.

/// An `.npy` file: version 1.0 with `header` (padded as numpy pads it) and `data`.
fn npy(header: &str, data: &[u8]) -> Vec<u8> {
    let mut h = header.to_owned();
    while !(10 + h.len() + 1).is_multiple_of(64) {
        h.push(' ');
    }
    h.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend(u16::try_from(h.len()).expect("short header").to_le_bytes());
    bytes.extend(h.as_bytes());
    bytes.extend(data);
    bytes
}

fn header(descr: &str, shape: &str) -> String {
    format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}")
}

#[test]
fn npy_headers_are_checked_before_the_data_and_errors_say_what_was_expected() {
    let le: Vec<u8> = [0.5f64, 0.25, 0.125]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let cases: Vec<(Vec<u8>, Vec<&str>)> = vec![
        // A shape of 10^12 values over 24 bytes: refused from the file's length, at once.
        (
            npy(&header("<f8", "(1000000000000,)"), &le),
            vec!["claims", "8000000000000 bytes", "holds 24 bytes"],
        ),
        (
            npy(&header("<f8", "(2,)"), &le),
            vec!["claims", "16 bytes", "holds 24", "trailing"],
        ),
        (
            npy(&header(">i8", "(3,)"), &le),
            vec!["'>i8'", "'<f8'", "'>f8'", "'<f4'", "'>f4'"],
        ),
        (
            npy("{'descr': '<f8', 'fortran_order': False}", &le),
            vec!["lacks the key 'shape'"],
        ),
        (
            npy(
                "{'descr': '<f8', 'fortran_order': Maybe, 'shape': (3,)}",
                &le,
            ),
            vec!["expected a string, True, False or a tuple", "Maybe"],
        ),
        (npy(&header("<f8", "(3, 1)"), &le), vec!["(3, 1)", "1-D"]),
        (
            b"\x93NUMPX\x01\x00".to_vec(),
            vec!["expected the magic string", "NUMPX"],
        ),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    for (bytes, words) in &cases {
        fs::write(d.join("w.npy"), bytes).expect("npy");
        let out = run_in(d, &["--init-file", "w.npy", "--lambda", "1e-2"]);
        let mut all = vec!["--init-file", "w.npy"];
        all.extend(words);
        assert_refused(d, &out, &all);
    }
}

#[test]
fn big_endian_npy_gives_the_same_run_as_little_endian() {
    let w = [0.5f64, 0.25, 0.125, 0.0625];
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let be: Vec<u8> = w.iter().flat_map(|x| x.to_be_bytes()).collect();
    let le: Vec<u8> = w.iter().flat_map(|x| x.to_le_bytes()).collect();
    let be4: Vec<u8> = w.iter().flat_map(|&x| (x as f32).to_be_bytes()).collect();
    fs::write(d.join("be.npy"), npy(&header(">f8", "(4,)"), &be)).expect("npy");
    fs::write(d.join("le.npy"), npy(&header("<f8", "(4,)"), &le)).expect("npy");
    fs::write(d.join("be4.npy"), npy(&header(">f4", "(4,)"), &be4)).expect("npy");
    let mut deaths = Vec::new();
    for name in ["be", "le", "be4"] {
        let out = run_in(
            d,
            &[
                "--init-file",
                &format!("{name}.npy"),
                "--lambda",
                "1e-2",
                "--deaths",
                &format!("{name}.csv"),
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        deaths.push(fs::read_to_string(d.join(format!("{name}.csv"))).expect("deaths"));
    }
    // The weights are powers of two, exact in float32 too: three identical runs.
    assert_eq!(deaths[0].lines().count(), 4, "{}", deaths[0]);
    assert_eq!(deaths[0], deaths[1]);
    assert_eq!(deaths[0], deaths[2]);
}

#[test]
fn three_thousand_mutated_npy_files_exit_0_or_2() {
    // In-process (the same library as the binary) to afford 3,000 cases; `predict` so that a
    // mutation which makes weights tie cannot make a case run long.
    use rand::{RngExt, SeedableRng};
    let w: Vec<u8> = (1..=16)
        .flat_map(|i| (1.0 / f64::from(i)).to_le_bytes())
        .collect();
    let valid = npy(&header("<f8", "(16,)"), &w);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("w.npy");
    let out = dir.path().join("p.csv");
    let (path_s, out_s) = (
        path.to_string_lossy().into_owned(),
        out.to_string_lossy().into_owned(),
    );
    let mut rng = rand_pcg::Pcg64::seed_from_u64(8);
    let mut codes = [0usize; 256];
    for _ in 0..3000 {
        let mut bytes = valid.clone();
        for _ in 0..rng.random_range(1..4) {
            if bytes.is_empty() {
                break;
            }
            match rng.random_range(0..3) {
                0 => {
                    let i = rng.random_range(0..bytes.len());
                    bytes[i] = rng.random();
                }
                1 => bytes.truncate(rng.random_range(0..bytes.len())),
                _ => {
                    let i = rng.random_range(0..bytes.len());
                    let b: u8 = rng.random();
                    bytes.insert(i, b);
                }
            }
        }
        fs::write(&path, &bytes).expect("npy");
        let (code, _, stderr) = crate::common::sparsify_in_process(
            &[
                "predict",
                "--init-file",
                &path_s,
                "--lambda",
                "1e-3",
                "--order",
                "0",
                "--out",
                &out_s,
            ],
            false,
        );
        assert!(code == 0 || code == 2, "exit {code}: {stderr}");
        assert!(code == 0 || stderr.lines().count() == 1, "{stderr:?}");
        codes[usize::from(code)] += 1;
    }
    // Both outcomes happen: the sweep reaches the data, not only the magic string.
    assert!(codes[0] > 0 && codes[2] > 0, "{:?}", (codes[0], codes[2]));
}

// ----------------------------------------------------------------------------------------------
// Messages.

#[test]
fn control_bytes_from_inputs_are_escaped_in_messages() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    fs::write(d.join("w.txt"), "0.5\n\x1b[2J\n").expect("input");
    // (file name or value, whether the message quotes it: clap drops escape sequences from
    // the values it quotes, which is safe too).
    let cases: &[(&[&str], bool)] = &[
        (&["--init-file", "w.txt"], true),
        (&["--init-file", "missing\x1b[31m.txt"], true),
        (&["--trajectory", "no\x07dir/t.csv"], true),
        (&["--lambda", "\x1b[31m"], false),
    ];
    for (args, quoted) in cases {
        let out = run_in(d, args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            !stderr.trim_end_matches('\n').chars().any(char::is_control),
            "{args:?}: raw control bytes in {stderr:?}"
        );
        if *quoted {
            assert!(
                stderr.contains("\\u{1b}") || stderr.contains("\\u{7}"),
                "{args:?}: {stderr:?}"
            );
        }
    }
}

#[test]
fn negative_exponents_floats_and_sigma_get_the_range_checks_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["run", "--lambda", "-1e-3"],
            &["--lambda", "-0.001", "> 0"],
        ),
        (&["run", "--step", "-1e-3"], &["--step", "> 0"]),
        (
            &["predict", "--lambda", "-1e-3", "--out", "p.csv"],
            &["--lambda", "> 0"],
        ),
        (
            &[
                "predict",
                "--continuum",
                "--sigma",
                "1e300",
                "--out",
                "p.csv",
            ],
            &["--sigma"],
        ),
        (
            &[
                "predict",
                "--continuum",
                "--t-min",
                "1e-300",
                "--t-max",
                "1e300",
                "--out",
                "p.csv",
            ],
            &["--t-max"],
        ),
    ];
    for (args, words) in cases {
        let out = sparsify_in(d, args);
        assert_refused(d, &out, words);
        // No number is printed positionally in hundreds of digits.
        let stderr = text(&out.stderr);
        let longest = stderr
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .map(str::len)
            .max()
            .unwrap_or(0);
        assert!(longest <= 21, "{args:?}: {stderr}");
    }
}

#[test]
fn help_states_every_exit_code_truly() {
    for cmd in ["run", "predict"] {
        let out = sparsify_in(Path::new("."), &[cmd, "--help"]);
        let help = text(&out.stdout);
        for code in ["74", "130", "143"] {
            assert!(help.contains(code), "{cmd} --help lacks {code}");
        }
        assert!(
            !help.contains("1 an output could not be written"),
            "{cmd}: stale exit code"
        );
    }
    let help = text(&sparsify_in(Path::new("."), &["run", "--help"]).stdout);
    assert!(help.contains("unstable during the run"), "{help}");
    assert!(help.contains("second Ctrl-C"), "{help}");
}
