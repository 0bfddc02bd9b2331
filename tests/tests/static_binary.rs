//! The launcher (and so every packed tool) must run on any distribution:
//! it is a static executable.

use e2e::{launcher, run};
use std::process::Command;

#[test]
fn launcher_is_statically_linked() {
    let Some(launcher) = launcher() else { return };
    let ldd = run(Command::new("ldd").arg(&launcher));
    let text = format!("{}{}", ldd.stdout, ldd.stderr);
    assert!(
        text.contains("not a dynamic executable") || text.contains("statically linked"),
        "ldd does not call {} static: {ldd}",
        launcher.display()
    );
}
