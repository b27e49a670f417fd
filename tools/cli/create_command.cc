// `create NAME --prefix P`: writes the next migration file, never over an
// existing one.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rocksmigrate/declarative.h"
#include "rocksmigrate/status_macros.h"
#include "tools/cli/command_util.h"
#include "tools/cli/format.h"

namespace rocksmigrate::cli {

absl::StatusOr<Outcome> RunCreate(CommandContext& ctx) {
  const std::string& name = ctx.inv.args[0];
  if (name.empty() ||
      !std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
      })) {
    return absl::InvalidArgumentError(absl::StrCat(
        "migration name \"", EscapeBytes(name),
        "\" must use only a-z, 0-9 and _ (it becomes the file name)"));
  }
  auto prefix_it = ctx.inv.flags.find("prefix");
  if (prefix_it == ctx.inv.flags.end() || prefix_it->second.empty()) {
    return absl::InvalidArgumentError(
        "create needs --prefix P, the key prefix of the records to migrate");
  }
  const std::string& prefix = prefix_it->second;
  if (prefix[0] == '_') {
    return absl::InvalidArgumentError(
        absl::StrCat("prefix \"", EscapeBytes(prefix),
                     "\" starts with '_', which rocksmigrate reserves"));
  }

  const std::string& dir = ctx.inv.migrations_dir;
  std::error_code ec;
  int newest_to = -1;
  if (std::filesystem::exists(dir, ec)) {
    RM_ASSIGN_OR_RETURN(std::vector<std::unique_ptr<Migration>> existing,
                        LoadMigrationDir(dir));
    for (const auto& m : existing) newest_to = std::max(newest_to, m->to());
  } else if (!std::filesystem::create_directories(dir, ec)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot create the migrations directory ", dir, ": ", ec.message()));
  }
  int from = 1;
  if (newest_to >= 0) {
    from = newest_to;
  } else if (!ctx.inv.db.empty()) {
    MigrationRegistry none;
    CommandContext db_ctx{ctx.inv, ctx.out, ctx.err, ctx.terminal, &none};
    absl::StatusOr<Opened> opened = Open(db_ctx, OpenMode::kReadOnly);
    absl::StatusOr<DatabaseState> state =
        opened.ok() ? opened->migrator->Inspect()
                    : absl::StatusOr<DatabaseState>(opened.status());
    if (state.ok()) {
      from = state->current_version;
    } else {
      ctx.err << "note: cannot read the version of " << ctx.inv.db << " ("
              << EscapeText(state.status().message())
              << "); the new migration starts at v1\n";
    }
  }
  const int to = from + 1;
  const std::string file_name = absl::StrFormat("%04d_%s.json", to, name);
  const std::string path = (std::filesystem::path(dir) / file_name).string();

  Json doc = Json::object();
  doc["from"] = from;
  doc["to"] = to;
  doc["name"] = name;
  doc["description"] = "";
  doc["prefix"] = prefix;
  doc["patch"] = Json::array();
  const std::string text = DumpJson(doc) + "\n";

  // O_EXCL: never overwrite a file, even one that appeared since the listing.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                        0644);
  if (fd < 0) {
    const int error = errno;
    if (error == EEXIST) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, " already exists; not overwriting it (pick another name or "
                "edit that file)"));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create ", path, ": ", std::strerror(error)));
  }
  size_t written = 0;
  while (written < text.size()) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      ::close(fd);
      ::unlink(path.c_str());
      return absl::InternalError(
          absl::StrCat("cannot write ", path, ": ", std::strerror(error)));
    }
    written += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(path.c_str());
    return absl::InternalError(
        absl::StrCat("cannot write ", path, ": ", std::strerror(error)));
  }

  if (ctx.inv.json) {
    PrintJson(ctx, Json{{"file", path}, {"from", from}, {"to", to},
                        {"name", name}, {"prefix", EscapeBytes(prefix)}});
  } else {
    ctx.out << "created " << path << " (v" << from << " -> v" << to
            << ", prefix " << EscapeBytes(prefix)
            << "); add its patch operations (see migrations/README.md), then "
               "preview with "
            << (ctx.inv.db.empty()
                    ? std::string("`rocksmigrate --db PATH migrate --dry-run`")
                    : Cmd(ctx, "migrate --dry-run"))
            << '\n';
  }
  return Outcome::kDone;
}

}  // namespace rocksmigrate::cli
