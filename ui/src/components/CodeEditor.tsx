// A CodeMirror 6 editor for python node code, templates and expressions: Python mode or
// `{{ }}` highlighting, Tab indents (Escape then Tab leaves), autocomplete of what the
// node can read, and lint marks (references to no step, the compiler's problems).
import { useEffect, useRef } from "react";
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap, type CompletionContext } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { python } from "@codemirror/lang-python";
import { bracketMatching, defaultHighlightStyle, indentOnInput, syntaxHighlighting } from "@codemirror/language";
import { forceLinting, linter, lintGutter, type Diagnostic } from "@codemirror/lint";
import { EditorState, type Extension } from "@codemirror/state";
import {
  Decoration,
  EditorView,
  MatchDecorator,
  ViewPlugin,
  keymap,
  placeholder as placeholderText,
  type DecorationSet,
  type ViewUpdate,
} from "@codemirror/view";
import { completionsAt, problemLine, unknownStepRefs, type EditorMode, type ScopeInfo } from "../lib/templateScope";

export interface EditorProblem {
  message: string;
}

export interface CodeEditorProps {
  id: string;
  /** The editor's accessible name (its field's label). */
  label: string;
  describedBy?: string;
  value: string;
  onChange: (text: string) => void;
  mode: EditorMode;
  /** One line: Enter and Tab keep their usual meaning (a URL, an expression). */
  singleLine?: boolean;
  scope?: ScopeInfo | null;
  /** The compiler's problems about this field, marked on the line they name. */
  problems?: EditorProblem[];
  placeholder?: string;
  invalid?: boolean;
}

const templateTags = new MatchDecorator({
  regexp: /\{\{[^}]*\}\}|\{%[^%]*%\}|\{#[^#]*#\}/g,
  decoration: Decoration.mark({ class: "cm-tpl-tag" }),
});

const templateHighlight = ViewPlugin.fromClass(
  class {
    decorations: DecorationSet;
    constructor(view: EditorView) {
      this.decorations = templateTags.createDeco(view);
    }
    update(update: ViewUpdate) {
      this.decorations = templateTags.updateDeco(update, this.decorations);
    }
  },
  { decorations: (v) => v.decorations },
);

const oneLine = EditorState.transactionFilter.of((tr) => (tr.newDoc.lines > 1 ? [] : tr));

export function CodeEditor(props: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  // The latest props, read by the extensions (which are built once).
  const latest = useRef(props);
  latest.current = props;

  useEffect(() => {
    const { mode, singleLine } = latest.current;
    const complete = (ctx: CompletionContext) => {
      const scope = latest.current.scope;
      if (!scope) return null;
      const text = ctx.state.doc.toString();
      const found = completionsAt(text, ctx.pos, mode, scope);
      if (!found || (found.from === ctx.pos && !ctx.explicit && !/[.{%\s]$/.test(text.slice(0, ctx.pos)))) return null;
      return { from: found.from, options: found.options, validFor: /^[\w-]*$/ };
    };
    const lint = (v: EditorView): Diagnostic[] => {
      const doc = v.state.doc;
      const { scope, problems } = latest.current;
      const found: Diagnostic[] = [];
      if (scope && mode !== "python") {
        for (const r of unknownStepRefs(doc.toString(), mode, scope.nodeIds)) {
          found.push({ from: r.from, to: r.to, severity: "error", message: r.message });
        }
      }
      for (const p of problems ?? []) {
        const n = Math.min(Math.max(problemLine(p.message) ?? 1, 1), doc.lines);
        const line = doc.line(n);
        found.push({ from: line.from, to: line.to, severity: "error", message: p.message });
      }
      return found;
    };
    const extensions: Extension[] = [
      history(),
      bracketMatching(),
      closeBrackets(),
      syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
      autocompletion({ override: [complete], activateOnTyping: true }),
      linter(lint, { delay: 300 }),
      keymap.of([
        ...closeBracketsKeymap,
        ...completionKeymap,
        ...(singleLine ? [] : [indentWithTab]),
        ...defaultKeymap,
        ...historyKeymap,
      ]),
      EditorView.updateListener.of((u) => {
        if (u.docChanged) latest.current.onChange(u.state.doc.toString());
      }),
      EditorView.contentAttributes.of({
        "aria-label": latest.current.label,
        ...(latest.current.describedBy ? { "aria-describedby": latest.current.describedBy } : {}),
        ...(singleLine ? {} : { "aria-multiline": "true" }),
        "data-editor": mode,
        spellcheck: "false",
      }),
    ];
    if (mode === "python") extensions.push(python(), indentOnInput(), lintGutter());
    else extensions.push(templateHighlight);
    if (singleLine) extensions.push(oneLine);
    else extensions.push(EditorView.lineWrapping);
    if (latest.current.placeholder) extensions.push(placeholderText(latest.current.placeholder));
    const created = new EditorView({
      parent: host.current as HTMLDivElement,
      state: EditorState.create({ doc: latest.current.value, extensions }),
    });
    view.current = created;
    return () => {
      created.destroy();
      view.current = null;
    };
    // Built once per editor; `mode` and `singleLine` are fixed for a field.
  }, []);

  // Undo/redo of the builder, or another node's value: show it unless it is what is typed.
  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const current = v.state.doc.toString();
    if (current !== props.value) v.dispatch({ changes: { from: 0, to: current.length, insert: props.value } });
  }, [props.value]);

  useEffect(() => {
    if (view.current) forceLinting(view.current);
  }, [props.problems, props.scope]);

  return (
    <div
      id={props.id}
      ref={host}
      className={`code-editor${props.singleLine ? " code-editor-line" : ""}${props.invalid ? " code-editor-invalid" : ""}`}
    />
  );
}
