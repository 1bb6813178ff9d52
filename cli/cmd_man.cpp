// cli/cmd_man.cpp — `vigy __generate man DIR | bash | zsh`: man pages and shell
// completions generated from the same CLI11 tree that prints --help, so they never
// drift. Hidden from --help; the build runs it (packaging/gen_docs.cmake) and
// installs the output. Every command registered with VIGY_CLI_COMMAND is picked up:
// the tree is walked when the action runs, after every command was added.
#include "cli.hpp"
#include "style.hpp"

#include "vigy/error.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace vigy::cli {
namespace {

// ---- the command tree ---------------------------------------------------------

/// A command as documented: its path from the root ("vigy", "plugins", "list").
struct command {
    std::vector<std::string> path;
    CLI::App* app = nullptr;
};

bool hidden(const CLI::App* app) { return app->get_group().empty() || app->get_name().rfind("__", 0) == 0; }

/// The visible subcommands of `app`, in the order --help lists them.
std::vector<CLI::App*> subcommands(CLI::App* app) {
    return app->get_subcommands([](CLI::App* a) { return !hidden(a); });
}

/// `root` and every visible command below it, depth first (parents before children).
void walk(CLI::App* app, std::vector<std::string> path, std::vector<command>& out) {
    out.push_back({path, app});
    for (CLI::App* sub : subcommands(app)) {
        auto p = path;
        p.push_back(sub->get_name());
        walk(sub, std::move(p), out);
    }
}

std::string join(const std::vector<std::string>& v, const std::string& sep, size_t from = 0) {
    std::string s;
    for (size_t i = from; i < v.size(); ++i) s += (i > from ? sep : "") + v[i];
    return s;
}

bool is_flag(const CLI::Option* o) { return o->get_expected_max() == 0; }

/// "-o, --output FORMAT" / "--disabled" / "FILE".
std::vector<std::string> option_names(const CLI::Option* o) {
    std::vector<std::string> names;
    for (const auto& s : o->get_snames()) names.push_back("-" + s);
    for (const auto& l : o->get_lnames()) names.push_back("--" + l);
    return names;
}

/// The value's name in --help ("MS", "PATH") without the validator's description
/// CLI11 appends ("FORMAT:{table,json}").
std::string value_name(const CLI::Option* o) {
    std::string t = o->get_type_name();
    if (auto colon = t.find(':'); colon != std::string::npos) t.erase(colon);
    if (t.empty()) t = "VALUE";
    return t;
}

/// The allowed values of an option checked with CLI::IsMember ("{table,json}"), else empty.
std::vector<std::string> choices(CLI::Option* o) {
    std::vector<std::string> out;
    for (int i = 0;; ++i) {
        CLI::Validator* v = nullptr;
        try {
            v = o->get_validator(i);
        } catch (const CLI::OptionNotFound&) {
            break;
        }
        const std::string d = v->get_description();
        if (d.size() < 2 || d.front() != '{' || d.back() != '}') continue;
        std::stringstream ss(d.substr(1, d.size() - 2));
        for (std::string item; std::getline(ss, item, ',');)
            if (!item.empty()) out.push_back(item);
        break;
    }
    return out;
}

/// What a shell should offer for the value of `o`.
std::string value_kind(CLI::Option* o) {
    if (!choices(o).empty()) return "choices";
    const std::string t = value_name(o);
    const std::string n = o->get_name();
    if (t == "PATH" || t == "FILE" || n == "FILE" || n == "file") return "file";
    if (t == "DIR") return "dir";
    return "word";
}

/// The command's footer without the shared global-options paragraph (the pages
/// have GLOBAL OPTIONS and EXIT STATUS sections for it).
std::string footer_text(const CLI::App* app) {
    std::string f = app->get_footer();
    const std::string shared = global_options_help;
    if (auto at = f.find(shared); at != std::string::npos) f.erase(at, shared.size());
    while (!f.empty() && (f.back() == '\n' || f.back() == ' ')) f.pop_back();
    return f;
}

// ---- roff ------------------------------------------------------------------------

/// Text for a roff line: backslashes escaped, a leading '.' or '\'' protected,
/// non-ASCII characters as \[uXXXX] (so no input encoding is assumed).
std::string roff(std::string_view s, bool minus = false) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '\\') {
            out += "\\e";
        } else if (c == '-' && minus) {
            out += "\\-";
        } else if (c < 0x80) {
            out += static_cast<char>(c);
        } else {
            // decode one UTF-8 sequence
            uint32_t cp = 0;
            int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
            cp = c & (extra == 3 ? 0x07 : extra == 2 ? 0x0F : 0x1F);
            for (int k = 0; k < extra && i + 1 < s.size(); ++k)
                cp = (cp << 6) | (static_cast<unsigned char>(s[++i]) & 0x3F);
            char buf[16];
            std::snprintf(buf, sizeof buf, "\\[u%04X]", cp);
            out += buf;
        }
    }
    if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
    return out;
}

/// Option names in bold, the value in italics: "\fB\-o\fR, \fB\-\-output\fR \fIFORMAT\fR".
std::string roff_option(const CLI::Option* o) {
    std::string s;
    for (const auto& n : option_names(o)) s += (s.empty() ? "" : ", ") + std::string("\\fB") + roff(n, true) + "\\fR";
    if (!is_flag(o)) s += " \\fI" + roff(value_name(o)) + "\\fR";
    return s;
}

std::string option_help(const CLI::Option* o) {
    std::string d = o->get_description();
    const std::string def = o->get_default_str();
    if (!def.empty() && !is_flag(o)) d += " (default: " + def + ")";
    if (o->get_required()) d += " (required)";
    return roff(d);
}

/// A footer as roff: paragraphs, with indented lines (examples) kept as they are.
std::string roff_paragraphs(const std::string& text) {
    std::string out;
    std::stringstream ss(text);
    bool in_block = false, need_pp = true;
    for (std::string line; std::getline(ss, line);) {
        if (line.empty()) {
            if (in_block) out += ".fi\n.RE\n";
            in_block = false;
            need_pp = true;
            continue;
        }
        const bool indented = line.rfind("  ", 0) == 0;
        if (indented && !in_block) {
            out += ".RS 4\n.nf\n";
            in_block = true;
        } else if (!indented && in_block) {
            out += ".fi\n.RE\n";
            in_block = false;
            need_pp = true;
        }
        if (need_pp && !in_block) {
            out += ".PP\n";
            need_pp = false;
        }
        out += roff(indented ? std::string_view(line).substr(2) : std::string_view(line)) + "\n";
    }
    if (in_block) out += ".fi\n.RE\n";
    return out;
}

std::string page_name(const std::vector<std::string>& path) { return join(path, "-"); }

std::string upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

std::string man_page(const command& c, CLI::App* root, const std::vector<command>& all, const std::string& source) {
    CLI::App* app = c.app;
    const bool is_root = c.path.size() == 1;
    const std::string name = page_name(c.path);
    std::ostringstream m;
    m << ".\\\" generated by `vigy __generate man` from the command's --help; do not edit\n";
    m << ".TH \"" << roff(upper(name), true) << "\" 1 \"\" \"" << roff(source) << "\" \"vigy manual\"\n";
    m << ".SH NAME\n" << roff(name, true) << " \\- " << roff(app->get_description()) << "\n";

    // SYNOPSIS: vigy [global options] cmd [options] POSITIONAL... | COMMAND
    std::vector<CLI::Option*> options, positionals;
    for (CLI::Option* o : app->get_options()) (o->nonpositional() ? options : positionals).push_back(o);
    const auto subs = subcommands(app);
    m << ".SH SYNOPSIS\n.B " << roff(join(c.path, " "), true) << "\n";
    if (!options.empty()) m << "[\\fIOPTIONS\\fR]\n";
    for (CLI::Option* p : positionals) {
        const std::string n = "\\fI" + roff(p->get_name()) + "\\fR";
        m << (p->get_required() ? n : "[" + n + "]") << "\n";
    }
    if (!subs.empty()) m << "\\fICOMMAND\\fR [\\fIARGS\\fR]\n";

    std::string summary = app->get_description();
    if (!summary.empty()) summary[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(summary[0])));
    m << ".SH DESCRIPTION\n" << roff(summary) << ".\n";
    if (const std::string f = footer_text(app); !f.empty()) m << roff_paragraphs(f);

    if (!positionals.empty()) {
        m << ".SH ARGUMENTS\n";
        for (CLI::Option* p : positionals)
            m << ".TP\n\\fI" << roff(p->get_name()) << "\\fR\n" << option_help(p) << "\n";
    }
    if (!subs.empty()) {
        m << ".SH COMMANDS\n";
        for (CLI::App* s : subs) {
            auto p = c.path;
            p.push_back(s->get_name());
            m << ".TP\n\\fB" << roff(s->get_name(), true) << "\\fR\n"
              << roff(s->get_description()) << ". See \\fB" << roff(page_name(p), true) << "\\fR(1).\n";
        }
    }
    if (!options.empty()) {
        m << ".SH " << (is_root ? "GLOBAL OPTIONS" : "OPTIONS") << "\n";
        if (is_root) m << "Accepted before or after the command.\n";
        for (CLI::Option* o : options) m << ".TP\n" << roff_option(o) << "\n" << option_help(o) << "\n";
    }
    if (!is_root) {
        m << ".SH GLOBAL OPTIONS\nAccepted before or after the command; see \\fBvigy\\fR(1).\n";
        for (CLI::Option* o : root->get_options())
            if (o->nonpositional() && o->get_lnames() != std::vector<std::string>{"help"} &&
                o->get_lnames() != std::vector<std::string>{"version"})
                m << ".TP\n" << roff_option(o) << "\n" << option_help(o) << "\n";
    }
    if (is_root) {
        m << ".SH ENVIRONMENT\n"
             ".TP\n.B VIGY_DB\nthe database file when \\fB\\-\\-db\\fR is not given "
             "(default: ~/.local/share/vigy/vigy.db)\n"
             ".TP\n.B VIGY_PLUGIN_PATH\nmore plugin directories, colon-separated, searched after the built-in one "
             "and each \\fB\\-\\-plugin\\-dir\\fR\n"
             ".TP\n.B NO_COLOR\nwhen set and not empty, no colour (colour is used only on a terminal anyway)\n";
        m << ".SH FILES\n"
             ".TP\n.I <prefix>/lib/vigy/plugins/\nthe built-in plugins, found relative to the binary\n"
             ".TP\n.I <prefix>/lib/vigy/app\\-plugins/\napplication plugins shipped as examples; load them with "
             "\\fB\\-\\-plugin\\-dir\\fR\n"
             ".TP\n.I /var/lib/vigy/vigy.db\nthe database of the \\fBvigy.service\\fR systemd unit\n";
    }
    m << ".SH EXIT STATUS\n"
         ".TP\n.B 0\nsuccess\n.TP\n.B 1\nthe command failed\n"
         ".TP\n.B 2\nusage error (unknown flag, missing argument, ...)\n";
    // SEE ALSO: the parent, the children and (for the root) every command
    std::set<std::string> see;
    if (!is_root) see.insert(page_name({c.path.begin(), c.path.end() - 1}));
    for (const command& other : all) {
        const bool child =
            other.path.size() == c.path.size() + 1 && std::equal(c.path.begin(), c.path.end(), other.path.begin());
        if (child || (is_root && other.path.size() > 1)) see.insert(page_name(other.path));
    }
    if (!see.empty()) {
        m << ".SH SEE ALSO\n";
        size_t i = 0;
        for (const auto& s : see) m << "\\fB" << roff(s, true) << "\\fR(1)" << (++i < see.size() ? ",\n" : "\n");
    }
    return m.str();
}

int generate_man(CLI::App& root, const std::string& dir, const std::string& source) {
    std::vector<command> all;
    walk(&root, {"vigy"}, all);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) vigy::fail(VIGY_INTERNAL, "cannot create directory " + dir + ": " + ec.message());
    for (const command& c : all) {
        const auto file = std::filesystem::path(dir) / (page_name(c.path) + ".1");
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out << man_page(c, &root, all, source);
        out.close();
        if (!out) vigy::fail(VIGY_INTERNAL, "cannot write " + file.string() + ": " + std::strerror(errno));
    }
    std::cout << all.size() << " man pages written to " << dir << "\n";
    return exit_ok;
}

// ---- completions -----------------------------------------------------------------

/// "" for the root, else the command path below it ("plugins list").
std::string key_of(const command& c) { return join(c.path, " ", 1); }

std::string sh_quote(const std::string& s) {
    std::string out = "'";
    for (char ch : s) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return out + "'";
}

std::string bash_script(CLI::App& root) {
    std::vector<command> all;
    walk(&root, {"vigy"}, all);
    std::ostringstream subs, opts, args, pos;
    for (const command& c : all) {
        std::vector<std::string> names, with_value, positional;
        for (CLI::App* s : subcommands(c.app)) names.push_back(s->get_name());
        std::vector<std::string> flags;
        for (CLI::Option* o : c.app->get_options()) {
            if (!o->nonpositional()) {
                positional.push_back(value_kind(o));
                continue;
            }
            for (const auto& n : option_names(o)) {
                flags.push_back(n);
                if (is_flag(o)) continue;
                const std::string kind = value_kind(o);
                with_value.push_back(sh_quote(key_of(c) + "|" + n) + ") echo " +
                                     (kind == "choices" ? sh_quote("choices " + join(choices(o), " ")) : kind) + " ;;");
            }
        }
        subs << "        " << sh_quote(key_of(c)) << ") echo " << sh_quote(join(names, " ")) << " ;;\n";
        opts << "        " << sh_quote(key_of(c)) << ") echo " << sh_quote(join(flags, " ")) << " ;;\n";
        for (const auto& v : with_value) args << "        " << v << "\n";
        if (!positional.empty()) pos << "        " << sh_quote(key_of(c)) << ") echo " << positional.front() << " ;;\n";
    }
    std::vector<std::string> global;
    for (CLI::Option* o : root.get_options()) {
        const auto& l = o->get_lnames();
        if (o->nonpositional() && std::find(l.begin(), l.end(), "help") == l.end() &&
            std::find(l.begin(), l.end(), "version") == l.end())
            for (const auto& n : option_names(o)) global.push_back(n);
    }
    std::ostringstream s;
    s << "# bash completion for vigy. Generated by `vigy __generate bash` from the\n"
         "# command tree that prints --help; do not edit.\n"
         "\n"
         "# the subcommands of command path $1 (\"\" = vigy itself)\n"
         "_vigy_subcommands() {\n    case \"$1\" in\n"
      << subs.str()
      << "    esac\n}\n\n"
         "# the options of command path $1\n"
         "_vigy_options() {\n    case \"$1\" in\n"
      << opts.str()
      << "    esac\n}\n\n"
         "# the global options, accepted after a command too\n"
         "_vigy_global_options() {\n    echo "
      << sh_quote(join(global, " "))
      << "\n}\n\n"
         "# what option $2 of command path $1 takes: file, dir, word, 'choices A B'; nothing for a flag\n"
         "_vigy_option_value() {\n    case \"$1|$2\" in\n"
      << args.str()
      << "    esac\n}\n\n"
         "# what the first positional argument of command path $1 is: file, dir, word\n"
         "_vigy_positional() {\n    case \"$1\" in\n"
      << pos.str()
      << "    esac\n}\n\n"
         "_vigy() {\n"
         "    local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"\" path=\"\" word kind i\n"
         "    ((COMP_CWORD > 0)) && prev=\"${COMP_WORDS[COMP_CWORD - 1]}\"\n"
         "    COMPREPLY=()\n"
         "    # the command path so far: skip options (and their values) and positionals\n"
         "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
         "        word=\"${COMP_WORDS[i]}\"\n"
         "        case \"$word\" in\n"
         "            --*=*) ;;\n"
         "            -*) kind=\"$(_vigy_option_value \"$path\" \"$word\")\"\n"
         "                [[ -n $kind ]] || kind=\"$(_vigy_option_value \"\" \"$word\")\"\n"
         "                [[ -n $kind ]] && ((i++)) ;;\n"
         "            *) [[ \" $(_vigy_subcommands \"$path\") \" == *\" $word \"* ]] && path=\"${path:+$path }$word\" "
         ";;\n"
         "        esac\n"
         "    done\n"
         "    # the value of an option (global options are accepted after the command too)\n"
         "    if [[ $prev == -* && $cur != -* ]]; then\n"
         "        kind=\"$(_vigy_option_value \"$path\" \"$prev\")\"\n"
         "        [[ -n $kind ]] || kind=\"$(_vigy_option_value \"\" \"$prev\")\"\n"
         "        case \"$kind\" in\n"
         "            file) COMPREPLY=($(compgen -f -- \"$cur\")); return 0 ;;\n"
         "            dir) COMPREPLY=($(compgen -d -- \"$cur\")); return 0 ;;\n"
         "            choices*) COMPREPLY=($(compgen -W \"${kind#choices }\" -- \"$cur\")); return 0 ;;\n"
         "            word) return 0 ;;\n"
         "        esac\n"
         "    fi\n"
         "    if [[ $cur == -* ]]; then\n"
         "        local options=\"$(_vigy_options \"$path\")\"\n"
         "        [[ -n $path ]] && options=\"$options $(_vigy_global_options)\"\n"
         "        COMPREPLY=($(compgen -W \"$options\" -- \"$cur\"))\n"
         "        return 0\n"
         "    fi\n"
         "    local subs=\"$(_vigy_subcommands \"$path\")\"\n"
         "    if [[ -n $subs ]]; then\n"
         "        COMPREPLY=($(compgen -W \"$subs\" -- \"$cur\"))\n"
         "    else\n"
         "        case \"$(_vigy_positional \"$path\")\" in\n"
         "            file) COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n"
         "            dir) COMPREPLY=($(compgen -d -- \"$cur\")) ;;\n"
         "        esac\n"
         "    fi\n"
         "    return 0\n"
         "}\n"
         "complete -o filenames -F _vigy vigy\n";
    return s.str();
}

/// zsh: one _arguments spec per command, with descriptions.
std::string zsh_escape(const std::string& s) {
    std::string out;
    for (char ch : s) {
        if (ch == '[' || ch == ']' || ch == ':' || ch == '\\') out += '\\';
        if (ch == '\'') {
            out += "'\\''";
            continue;
        }
        out += ch;
    }
    return out;
}

std::string zsh_script(CLI::App& root) {
    std::vector<command> all;
    walk(&root, {"vigy"}, all);
    std::ostringstream s;
    s << "#compdef vigy\n"
         "# zsh completion for vigy. Generated by `vigy __generate zsh` from the command\n"
         "# tree that prints --help; do not edit.\n\n";
    auto fn_name = [](const command& c) { return "_vigy_cmd" + (c.path.size() > 1 ? "_" + join(c.path, "_", 1) : ""); };
    for (const command& c : all) {
        s << fn_name(c) << "() {\n    local curcontext=\"$curcontext\" state line\n    typeset -A opt_args\n"
          << "    _arguments -s -S \\\n";
        for (CLI::Option* o : c.app->get_options()) {
            if (!o->nonpositional()) {
                const std::string kind = value_kind(o);
                s << "        '" << (o->get_required() ? "" : ":") << ":" << zsh_escape(o->get_name()) << ":"
                  << (kind == "file"  ? "_files"
                      : kind == "dir" ? "_files -/"
                                      : " ")
                  << "' \\\n";
                continue;
            }
            const auto names = option_names(o);
            const std::string desc = zsh_escape(o->get_description());
            std::string value;
            if (!is_flag(o)) {
                const std::string kind = value_kind(o);
                value = ":" + zsh_escape(value_name(o)) + ":" +
                        (kind == "file"      ? "_files"
                         : kind == "dir"     ? "_files -/"
                         : kind == "choices" ? "(" + join(choices(o), " ") + ")"
                                             : " ");
            }
            const auto policy = o->get_multi_option_policy();
            const bool repeatable = o->get_expected_max() > 1 || policy == CLI::MultiOptionPolicy::TakeAll ||
                                    policy == CLI::MultiOptionPolicy::Join;
            if (names.size() > 1 && !repeatable) {
                s << "        '(" << join(names, " ") << ")'{" << join(names, ",") << "}'[" << desc << "]" << value
                  << "' \\\n";
            } else {
                for (const auto& n : names)
                    s << "        '" << (repeatable ? "*" : "") << n << "[" << desc << "]" << value << "' \\\n";
            }
        }
        const auto subs = subcommands(c.app);
        if (!subs.empty())
            s << "        '1:command:->command' \\\n        '*::arg:->args'";
        else
            s << "        '*::'";
        s << "\n";
        if (!subs.empty()) {
            s << "    case $state in\n    command)\n        local -a commands=(\n";
            for (CLI::App* sub : subs)
                s << "            '" << zsh_escape(sub->get_name()) << ":" << zsh_escape(sub->get_description())
                  << "'\n";
            s << "        )\n        _describe command commands ;;\n    args)\n        case $words[1] in\n";
            for (CLI::App* sub : subs) {
                auto p = c.path;
                p.push_back(sub->get_name());
                s << "        " << sub->get_name() << ") " << fn_name({p, sub}) << " ;;\n";
            }
            s << "        esac ;;\n    esac\n";
        }
        s << "}\n\n";
    }
    s << "_vigy() { _vigy_cmd \"$@\" }\n"
         "if [[ $funcstack[1] == _vigy ]]; then _vigy \"$@\"; else compdef _vigy vigy; fi\n";
    return s.str();
}

void add_generate(CLI::App& root, context& ctx) {
    auto* gen = root.add_subcommand("__generate", "generate man pages and shell completions from the command tree");
    gen->group("");  // hidden from --help
    gen->require_subcommand(1);

    auto dir = std::make_shared<std::string>();
    auto source = std::make_shared<std::string>("vigy");
    auto* man = gen->add_subcommand("man", "write vigy.1 and vigy-<command>.1 for every command into DIR");
    man->add_option("DIR", *dir, "output directory (created if needed)")->required()->type_name("DIR");
    man->add_option("--source", *source, "the .TH source field, e.g. \"vigy 0.1.0\"")->type_name("TEXT");
    set_action(man, ctx, [&root, dir, source] { return generate_man(root, *dir, *source); });

    auto* bash = gen->add_subcommand("bash", "print the bash completion script");
    set_action(bash, ctx, [&root] {
        std::cout << bash_script(root);
        return exit_ok;
    });
    auto* zsh = gen->add_subcommand("zsh", "print the zsh completion script (_vigy)");
    set_action(zsh, ctx, [&root] {
        std::cout << zsh_script(root);
        return exit_ok;
    });
}

}  // namespace

VIGY_CLI_COMMAND(add_generate);

}  // namespace vigy::cli
