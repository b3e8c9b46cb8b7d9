// The top view: a fetch thread refreshes a top_state every interval; the main thread owns
// the terminal, polls keys every 100 ms and redraws when data arrives or the size changes.
#include "top_view.hpp"

#include "errors.hpp"
#include "tables.hpp"
#include "top_model.hpp"
#include "units.hpp"

#include <curses.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <thread>

namespace chat::chatctl {

namespace {

volatile std::sig_atomic_t interrupted = 0;

void on_signal(int) { interrupted = 1; }

void catch_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
}

std::string clock_text(std::chrono::system_clock::time_point t) {
  auto tt = std::chrono::system_clock::to_time_t(t);
  std::tm local{};
  localtime_r(&tt, &local);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%H:%M:%S", &local);
  return buf;
}

std::string interval_text(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0)
    return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

// Refreshes the shared state every interval on its own thread, so slow answers never
// block the keyboard.
class fetcher {
public:
  fetcher(admin_api& api, std::chrono::milliseconds interval)
    : api_(api), interval_(interval), thread_([this] { loop(); }) {}

  ~fetcher() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  // The latest state when it changed since the last call.
  bool take(top_state& out) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!fresh_)
      return false;
    out = state_;
    fresh_ = false;
    return true;
  }

private:
  void loop() {
    top_state local;
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stop_) {
      auto next = std::chrono::steady_clock::now() + interval_;
      lock.unlock();
      take_snapshot(api_, local);
      lock.lock();
      state_ = local;
      fresh_ = true;
      wake_.wait_until(lock, next, [this] { return stop_; });
    }
  }

  admin_api& api_;
  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  top_state state_;
  bool fresh_ = false;
  bool stop_ = false;
  std::thread thread_;
};

// `text` as plain ASCII, one character per code point ('?' for the others): the narrow
// ncurses library cannot draw UTF-8, and one cell per code point keeps tables aligned.
std::string ascii(const std::string& text) {
  std::string out;
  for (char c : printable(text)) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x80)
      out.push_back(c);
    else if ((u & 0xC0) != 0x80)
      out.push_back('?');
  }
  return out;
}

// Writes `text` at (y, x), cut at the right edge of the screen.
void put(int y, int x, const std::string& text, attr_t attr = A_NORMAL) {
  if (y < 0 || y >= LINES || x < 0 || x >= COLS)
    return;
  auto line = ascii(text);
  attron(attr);
  mvaddnstr(y, x, line.c_str(), std::min(static_cast<int>(line.size()), COLS - x));
  attroff(attr);
}

// A titled table at (y, x), at most `width` wide, kept above the footer line; returns the
// lines it takes.
int put_table(int y, int x, int width, const std::string& title, const table& t,
              const std::string& when_empty) {
  auto body = [&](int line, const std::string& text, attr_t attr) {
    if (line < LINES - 1)
      put(line, x, text, attr);
  };
  body(y, title, A_BOLD);
  auto lines = t.lines(static_cast<std::size_t>(width));
  body(y + 1, lines[0], A_UNDERLINE);
  if (t.empty()) {
    body(y + 2, when_empty, A_DIM);
    return 3;
  }
  for (std::size_t i = 1; i < lines.size(); ++i)
    body(y + 1 + static_cast<int>(i), lines[i], A_NORMAL);
  return 1 + static_cast<int>(lines.size());
}

table rooms_table(const std::vector<room_summary>& rooms) {
  table t({{"ROOM"}, {"MEMBERS", align::right}, {"MSG/S", align::right},
           {"MESSAGES", align::right}, {"MAILBOX", align::right}});
  for (auto& r : rooms)
    t.add_row({r.id, std::to_string(r.members), format_rate(r.rate), std::to_string(r.messages),
               std::to_string(r.mailbox)});
  return t;
}

table actors_table(const std::vector<actor_info>& actors) {
  table t({{"KIND"}, {"ID"}, {"MSG/S", align::right}, {"MAILBOX", align::right},
           {"HANDLED", align::right}});
  for (auto& a : actors)
    t.add_row({a.kind, a.id, format_rate(a.rate), std::to_string(a.mailbox),
               std::to_string(a.handled)});
  return t;
}

void draw(const admin_api& api, const top_state& state, std::chrono::milliseconds interval) {
  erase();
  int width = COLS;
  std::string title = "chatctl top  " + api.where().text();
  if (state.last)
    title += "  node " + printable(state.last->node.node) + "  up "
             + format_duration(state.last->node.uptime_s);
  title += "  every " + interval_text(interval);
  if (state.attempted.time_since_epoch().count() != 0)
    title += "  " + clock_text(state.attempted);
  title.resize(static_cast<std::size_t>(std::max(width, 0)), ' ');
  put(0, 0, title, A_REVERSE);

  if (!state.error.empty()) {
    std::string line = "error: " + printable(state.error);
    if (state.last)
      line += "  (showing data from " + clock_text(state.last->taken) + ")";
    put(1, 0, line, A_BOLD | (has_colors() ? COLOR_PAIR(1) : A_NORMAL));
  }
  put(LINES - 1, 0, "q quit", A_DIM);
  if (!state.last) {
    put(3, 0, state.error.empty() ? "waiting for the node..." : "no data yet; retrying");
    refresh();
    return;
  }

  const auto& s = *state.last;
  const auto& n = s.node;
  put(2, 0, "connections " + std::to_string(n.connections) + "   rooms "
              + std::to_string(n.rooms) + "   online users " + std::to_string(n.online_users)
              + "   actors " + std::to_string(n.actors));
  put(3, 0, "messages/s " + format_rate(n.messages_per_s) + "   deliveries/s "
              + format_rate(n.deliveries_per_s) + "   store backlog "
              + std::to_string(n.store.backlog) + "   (" + printable(n.store.backend) + ", "
              + (n.store.reachable ? "reachable" : "UNREACHABLE") + ", "
              + std::to_string(n.store.failures) + " failures)");

  // Rows left for the three tables: below the totals (line 5) and above the footer; each
  // table takes a title and a header line, plus a blank line between sections.
  int top = 5;
  int free_lines = LINES - 1 - top;
  bool side_by_side = width >= 120;
  int fixed = side_by_side ? 2 + 2 + 1 : 2 + 2 + 2 + 2;
  int rows = std::max(free_lines - fixed, 3);
  // Rooms get their share (a half, or a third when stacked), lines they do not fill go to
  // the actors; an empty table still takes one line for its "no ..." note.
  int room_share = side_by_side ? (rows + 1) / 2 : (rows + 2) / 3;
  int room_rows = std::min(room_share, std::max(static_cast<int>(s.rooms.size()), 1));
  int actor_rows = side_by_side ? rows - room_rows : (rows - room_rows) / 2;
  int y = top;
  y += put_table(y, 0, width, "BUSIEST ROOMS (by rate)",
                 rooms_table(busiest_rooms(s.rooms, static_cast<std::size_t>(room_rows))),
                 "no rooms") + 1;
  auto by_rate = actors_table(busiest_actors(s.actors, static_cast<std::size_t>(actor_rows)));
  auto by_mailbox =
      actors_table(largest_mailboxes(s.actors, static_cast<std::size_t>(actor_rows)));
  if (side_by_side) {
    int half = (width - 4) / 2;
    put_table(y, 0, half, "BUSIEST ACTORS (by rate)", by_rate, "no actors");
    put_table(y, half + 4, width - half - 4, "LARGEST MAILBOXES", by_mailbox,
              "all mailboxes empty");
  } else {
    y += put_table(y, 0, width, "BUSIEST ACTORS (by rate)", by_rate, "no actors") + 1;
    put_table(y, 0, width, "LARGEST MAILBOXES", by_mailbox, "all mailboxes empty");
  }
  refresh();
}

// Owns the terminal's curses mode; restores the terminal when it goes out of scope.
class screen {
public:
  screen() {
    term_ = newterm(nullptr, stdout, stdin);
    if (!term_)
      throw chatctl_error("top cannot use this terminal (TERM='"
                          + std::string(std::getenv("TERM") ? std::getenv("TERM") : "") + "')");
    set_term(term_);
    cbreak();
    noecho();
    curs_set(0);
    keypad(stdscr, TRUE);
    timeout(100);
    if (has_colors()) {
      start_color();
      use_default_colors();
      init_pair(1, COLOR_RED, -1);
    }
  }
  ~screen() {
    endwin();
    delscreen(term_);
  }
  screen(const screen&) = delete;
  screen& operator=(const screen&) = delete;

private:
  SCREEN* term_ = nullptr;
};

} // namespace

void run_top(admin_api& api, std::chrono::milliseconds interval) {
  if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
    throw chatctl_error("top needs a terminal (stdin and stdout must be a tty)");
  // The fetcher outlives the screen, so the terminal is restored at once on quit even
  // while a slow fetch is still finishing.
  fetcher fetch(api, interval);
  screen term;
  catch_signals();
  top_state state;
  draw(api, state, interval);
  while (!interrupted) {
    int key = getch();
    if (key == 'q' || key == 'Q')
      break;
    bool redraw = key == KEY_RESIZE;
    if (fetch.take(state))
      redraw = true;
    if (redraw)
      draw(api, state, interval);
  }
}

} // namespace chat::chatctl
