//! What the model is told: the system message and the task, on the
//! runtime the steps run on (a small model copies the example it is shown,
//! so the example is a step in the library it should reach for).

use super::Run;

/// The system message: how to work, what is bound, and an example step.
/// `prepared` describes the tables step 0 parsed.
pub(super) fn system(run: &Run<'_>, prepared: &[String]) -> String {
    let data = !run.options.runtime.is_core();
    let mut text = String::from(
        "You answer data tasks by running Python with run_python, one short step at a time. \
         A step is a few plain statements (no function definitions) ending with an expression: \
         its value is the step's result. ",
    );
    text.push_str(if data {
        "Import only what the step uses: Python's standard library, pandas (`import pandas as \
         pd`) and numpy. A result may be a DataFrame or a Series; later steps receive it as \
         plain data (a DataFrame as a list of records)."
    } else {
        "Import only what the step uses, from Python's standard library. Results must be plain \
         data: dicts, lists, strings, numbers."
    });
    if !run.prompt.attachments.is_empty() {
        text.push_str(&format!(
            "\nThese variables are already defined (use them; do not paste data into code):\n{}",
            run.prompt.describe_attachments()
        ));
    }
    if !prepared.is_empty() {
        text.push_str(&format!(
            "\nThe tables are already parsed (start from these):\n{}",
            prepared.join("\n")
        ));
    }
    text.push_str(
        "\nEach successful step's result is defined as step1, step2, ... in later steps. \
         When a step's result answers the task completely, call finish.\n",
    );
    // A small model copies the example's shape, so it shows the library
    // the step should reach for.
    text.push_str(if data {
        "Example of a step, the hours per team of a table `t` (a list of records):\n\
         ```python\nimport pandas as pd\ndf = pd.DataFrame(t)\n\
         df.groupby('team')['hours'].sum().round(2).to_dict()\n```"
    } else {
        "Example of a step, counting the words of a text `t`:\n\
         ```python\nwords = t.split()\n{'words': len(words)}\n```"
    });
    text
}

/// The user's task, with where to start said last, where a small model
/// reads it: it otherwise opens the CSV it was told about as a file, with
/// pandas. `table` names the first table step 0 parsed.
pub(super) fn task(run: &Run<'_>, table: Option<&str>) -> String {
    let mut task = run.prompt.task.clone();
    if let Some(name) = table {
        task.push_str(&if run.options.runtime.is_core() {
            format!(
                "\n\nThe data is loaded and parsed already: start from `{name}`. \
                 There are no files; use only the standard library."
            )
        } else {
            format!(
                "\n\nThe data is loaded and parsed already: start from `{name}` \
                 (`pd.DataFrame({name})`). There are no files."
            )
        });
    }
    task
}
