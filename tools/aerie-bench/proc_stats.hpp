// What /proc says about another process (the server under test) and the machine.
#pragma once

namespace aerie::bench {

/// CPU seconds (user + system, all threads) the process has used; -1 if unreadable.
double processCpuSeconds(int pid);
/// Resident set size in KiB (VmRSS); -1 if unreadable.
long processRssKib(int pid);
/// Busy CPU seconds of the whole machine, all cores (shows interference from other load).
double machineBusySeconds();
/// CPU seconds this process has used (user + system, all threads).
double selfCpuSeconds();

}  // namespace aerie::bench
