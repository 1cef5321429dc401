// TorchSharp 0.107's libLibTorchSharp.so is linked against GCC 13's libstdc++ and so asks for GLIBCXX_3.4.32, for one
// symbol only: _ZSt21ios_base_library_initv, the anchor GCC 13's <iostream> references so that a static link pulls in
// the iostream initialiser. Nothing calls it (no relocation names it), and a shared libstdc++ initialises iostreams by
// itself, so on a system whose libstdc++ is older (Debian 12: GLIBCXX_3.4.30) the only thing in the way is the dynamic
// loader's version check. This file makes a copy of the library with that version requirement marked weak.
//
// One source, two uses:
//  - the build: buildTransitive/Microsoft.ML.Transformers.targets compiles it as an inline task (RoslynCodeTaskFactory,
//    so it must stay within netstandard2.0's API: no spans, no records, no init accessors);
//  - the library (compiled with MLT_LIBRARY, without the task class): TorchSharpRuntime uses the reader to explain a
//    failed TorchSharp start.
#nullable enable
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;

namespace Microsoft.ML.Transformers.Engines.Elf
{
    /// <summary>A file that is not an ELF file this reader handles (64-bit little-endian with section headers), or is cut
    /// short or inconsistent.</summary>
    internal sealed class ElfFormatException : Exception
    {
        public ElfFormatException(string file, string problem)
            : base(file + ": not a readable ELF64 shared library: " + problem)
        {
            FileName = file;
            Problem = problem;
        }

        public string FileName { get; }
        public string Problem { get; }
    }

    /// <summary>One version a library needs from one of its dependencies (an ELF Vernaux entry).</summary>
    internal sealed class ElfVersionNeed
    {
        public ElfVersionNeed(string file, string name, ushort flags, ushort index, long flagsOffset)
        {
            File = file;
            Name = name;
            Flags = flags;
            Index = index;
            FlagsOffset = flagsOffset;
        }

        /// <summary>The dependency (DT_NEEDED name) the version is required from, e.g. libstdc++.so.6.</summary>
        public string File { get; }
        public string Name { get; }
        public ushort Flags { get; }
        /// <summary>vna_other: the index .gnu.version uses for symbols bound to this version.</summary>
        public ushort Index { get; }
        public bool IsWeak => (Flags & ElfFile.VER_FLG_WEAK) != 0;
        internal long FlagsOffset { get; }
    }

    /// <summary>One .dynsym entry with its .gnu.version index.</summary>
    internal sealed class ElfDynamicSymbol
    {
        public ElfDynamicSymbol(int index, string name, byte info, ushort sectionIndex, ushort versionIndex, long infoOffset, long versionOffset)
        {
            Index = index;
            Name = name;
            Info = info;
            SectionIndex = sectionIndex;
            VersionIndex = versionIndex;
            InfoOffset = infoOffset;
            VersionOffset = versionOffset;
        }

        public int Index { get; }
        public string Name { get; }
        public byte Info { get; }
        public int Binding => Info >> 4;
        public bool IsUndefined => SectionIndex == 0;
        public ushort SectionIndex { get; }
        /// <summary>The .gnu.version entry without the hidden bit (0 local, 1 global, else a version index); 1 when the file has no .gnu.version.</summary>
        public ushort VersionIndex { get; }
        internal long InfoOffset { get; }
        /// <summary>File offset of the .gnu.version entry, -1 when there is none.</summary>
        internal long VersionOffset { get; }
    }

    /// <summary>A bounds-checked reader of the dynamic-linking tables of an ELF64 little-endian file, over bytes in memory
    /// (which <see cref="LibTorchSharpGlibcxxPatch"/> edits in place).</summary>
    internal sealed class ElfFile
    {
        public const ushort VER_FLG_WEAK = 0x2;
        public const int STB_GLOBAL = 1;
        public const int STB_WEAK = 2;
        const uint SHT_RELA = 4, SHT_NOBITS = 8, SHT_REL = 9, SHT_DYNSYM = 11;
        const uint SHT_GNU_verdef = 0x6ffffffd, SHT_GNU_verneed = 0x6ffffffe, SHT_GNU_versym = 0x6fffffff;

        readonly byte[] data;
        readonly Section[] sections;
        readonly List<ElfVersionNeed> needs = new List<ElfVersionNeed>();
        readonly List<string> definitions = new List<string>();
        readonly List<ElfDynamicSymbol> symbols = new List<ElfDynamicSymbol>();
        readonly HashSet<int> relocated = new HashSet<int>();

        struct Section
        {
            public uint Type;
            public long Offset;
            public long Size;
            public uint Link;
            public uint Info;
            public long EntrySize;
        }

        public ElfFile(byte[] data, string name)
        {
            this.data = data;
            Name = name;
            if (data.Length < 4 || data[0] != 0x7f || data[1] != (byte)'E' || data[2] != (byte)'L' || data[3] != (byte)'F')
                throw Bad("no ELF magic (expected 7F 45 4C 46 at offset 0)");
            if (data.Length < 64)
                throw Bad("the file is " + data.Length + " bytes, shorter than an ELF64 header (64 bytes)");
            if (data[4] != 2)
                throw Bad("EI_CLASS is " + data[4] + ", only ELFCLASS64 (2) is handled");
            if (data[5] != 1)
                throw Bad("EI_DATA is " + data[5] + ", only little-endian (1) is handled");

            Machine = U16(18);
            long shoff = Offset(U64(40), "e_shoff");
            int shentsize = U16(58);
            long shnum = U16(60);
            long shstrndx = U16(62);
            if (shoff == 0)
                throw Bad("no section header table (e_shoff is 0)");
            if (shentsize < 64)
                throw Bad("e_shentsize is " + shentsize + ", expected at least 64");
            if (shoff + shentsize > data.Length)
                throw Bad("the section header table at " + shoff + " lies past the end of the file (" + data.Length + " bytes)");
            if (shnum == 0)
                shnum = Offset(U64(shoff + 32), "section 0 sh_size (extended section count)");
            if (shstrndx == 0xffff)
                shstrndx = U32(shoff + 40);
            if (shnum > (data.Length - shoff) / shentsize)
                throw Bad("the section header table (" + shnum + " entries of " + shentsize + " bytes at " + shoff +
                    ") runs past the end of the file (" + data.Length + " bytes)");

            sections = new Section[shnum];
            for (int i = 0; i < shnum; i++)
            {
                long h = shoff + (long)i * shentsize;
                var s = new Section
                {
                    Type = U32(h + 4),
                    Offset = Offset(U64(h + 24), "sh_offset of section " + i),
                    Size = Offset(U64(h + 32), "sh_size of section " + i),
                    Link = U32(h + 40),
                    Info = U32(h + 44),
                    EntrySize = Offset(U64(h + 56), "sh_entsize of section " + i),
                };
                if (s.Type != SHT_NOBITS && s.Type != 0 && s.Offset + s.Size > data.Length)
                    throw Bad("section " + i + " (" + s.Size + " bytes at " + s.Offset + ") runs past the end of the file (" + data.Length + " bytes)");
                sections[i] = s;
            }

            int dynsymIndex = -1, versymIndex = -1;
            for (int i = 0; i < sections.Length; i++)
            {
                if (sections[i].Type == SHT_DYNSYM) dynsymIndex = i;
                else if (sections[i].Type == SHT_GNU_versym) versymIndex = i;
            }

            for (int i = 0; i < sections.Length; i++)
            {
                if (sections[i].Type == SHT_GNU_verneed) ReadVersionNeeds(i);
                else if (sections[i].Type == SHT_GNU_verdef) ReadVersionDefinitions(i);
            }
            if (dynsymIndex >= 0) ReadDynamicSymbols(dynsymIndex, versymIndex);
            for (int i = 0; i < sections.Length; i++)
            {
                if ((sections[i].Type == SHT_RELA || sections[i].Type == SHT_REL) && dynsymIndex >= 0 && sections[i].Link == dynsymIndex)
                    ReadRelocations(i);
            }
        }

        public static ElfFile Read(string path)
        {
            return new ElfFile(File.ReadAllBytes(path), path);
        }

        public string Name { get; }
        public int Machine { get; }
        public byte[] Bytes => data;
        /// <summary>Versions needed from dependencies (.gnu.version_r).</summary>
        public IReadOnlyList<ElfVersionNeed> VersionNeeds => needs;
        /// <summary>Versions this file defines (.gnu.version_d), e.g. GLIBCXX_3.4.30 in libstdc++.so.6.</summary>
        public IReadOnlyList<string> VersionDefinitions => definitions;
        public IReadOnlyList<ElfDynamicSymbol> DynamicSymbols => symbols;
        /// <summary>Whether a relocation section over .dynsym refers to the symbol with this index.</summary>
        public bool IsRelocated(int symbolIndex) => relocated.Contains(symbolIndex);

        internal void WriteU16(long offset, ushort value)
        {
            Check(offset, 2);
            data[offset] = (byte)value;
            data[offset + 1] = (byte)(value >> 8);
        }

        internal void WriteU8(long offset, byte value)
        {
            Check(offset, 1);
            data[offset] = value;
        }

        void ReadVersionNeeds(int index)
        {
            var s = sections[index];
            long count = s.Info;
            long at = s.Offset, end = s.Offset + s.Size;
            // each Verneed is 16 bytes and each Vernaux 16 bytes: more entries than that means a loop in the chain
            long budget = s.Size / 16 + 1;
            for (long n = 0; n < count || count == 0; n++)
            {
                if (--budget < 0) throw Bad(".gnu.version_r: the vn_next chain does not end inside the section");
                CheckIn(s, at, 16, ".gnu.version_r entry");
                ushort cnt = U16(at + 2);
                string file = Str((int)s.Link, U32(at + 4));
                long aux = at + U32(at + 8);
                for (int k = 0; k < cnt; k++)
                {
                    if (--budget < 0) throw Bad(".gnu.version_r: the vna_next chain does not end inside the section");
                    CheckIn(s, aux, 16, ".gnu.version_r auxiliary entry");
                    needs.Add(new ElfVersionNeed(file, Str((int)s.Link, U32(aux + 8)), U16(aux + 4), U16(aux + 6), aux + 4));
                    uint next = U32(aux + 12);
                    if (next == 0) break;
                    aux += next;
                }
                uint vnNext = U32(at + 12);
                if (vnNext == 0) break;
                at += vnNext;
                if (at >= end) throw Bad(".gnu.version_r: vn_next points past the section");
            }
        }

        void ReadVersionDefinitions(int index)
        {
            var s = sections[index];
            long at = s.Offset;
            long budget = s.Size / 8 + 1;
            while (true)
            {
                if (--budget < 0) throw Bad(".gnu.version_d: the vd_next chain does not end inside the section");
                CheckIn(s, at, 20, ".gnu.version_d entry");
                long aux = at + U32(at + 12);
                CheckIn(s, aux, 8, ".gnu.version_d auxiliary entry");
                definitions.Add(Str((int)s.Link, U32(aux)));
                uint next = U32(at + 16);
                if (next == 0) break;
                at += next;
            }
        }

        void ReadDynamicSymbols(int index, int versymIndex)
        {
            var s = sections[index];
            if (s.EntrySize != 24) throw Bad(".dynsym has sh_entsize " + s.EntrySize + ", expected 24");
            long count = s.Size / 24;
            Section? versym = null;
            if (versymIndex >= 0)
            {
                var v = sections[versymIndex];
                if (v.Size < count * 2) throw Bad(".gnu.version has " + v.Size / 2 + " entries for " + count + " symbols");
                versym = v;
            }
            for (int i = 0; i < count; i++)
            {
                long e = s.Offset + (long)i * 24;
                long vOff = versym.HasValue ? versym.Value.Offset + (long)i * 2 : -1;
                ushort ver = vOff >= 0 ? (ushort)(U16(vOff) & 0x7fff) : (ushort)1;
                symbols.Add(new ElfDynamicSymbol(i, Str((int)s.Link, U32(e)), data[e + 4], U16(e + 6), ver, e + 4, vOff));
            }
        }

        void ReadRelocations(int index)
        {
            var s = sections[index];
            long size = s.Type == SHT_RELA ? 24 : 16;
            if (s.EntrySize != size) throw Bad("relocation section " + index + " has sh_entsize " + s.EntrySize + ", expected " + size);
            for (long at = s.Offset; at + size <= s.Offset + s.Size; at += size)
            {
                ulong info = U64(at + 8);
                relocated.Add((int)(info >> 32));
            }
        }

        string Str(int strtab, uint offset)
        {
            if (strtab <= 0 || strtab >= sections.Length) throw Bad("string table index " + strtab + " is not a section");
            var s = sections[strtab];
            if (offset >= s.Size) throw Bad("string offset " + offset + " is outside its string table (" + s.Size + " bytes)");
            long start = s.Offset + offset, end = s.Offset + s.Size;
            long p = start;
            while (p < end && data[p] != 0) p++;
            if (p == end) throw Bad("a string at offset " + offset + " is not NUL-terminated inside its string table");
            return Encoding.UTF8.GetString(data, (int)start, (int)(p - start));
        }

        void CheckIn(Section s, long at, long size, string what)
        {
            if (at < s.Offset || at + size > s.Offset + s.Size)
                throw Bad(what + " at " + at + " lies outside its section (" + s.Size + " bytes at " + s.Offset + ")");
        }

        void Check(long offset, int size)
        {
            if (offset < 0 || offset + size > data.Length)
                throw Bad("a read of " + size + " bytes at offset " + offset + " runs past the end of the file (" + data.Length + " bytes)");
        }

        long Offset(ulong value, string what)
        {
            if (value > (ulong)data.Length) throw Bad(what + " is " + value + ", past the end of the file (" + data.Length + " bytes)");
            return (long)value;
        }

        ushort U16(long o) { Check(o, 2); return (ushort)(data[o] | data[o + 1] << 8); }
        uint U32(long o) { Check(o, 4); return (uint)(data[o] | data[o + 1] << 8 | data[o + 2] << 16 | data[o + 3] << 24); }
        ulong U64(long o) { Check(o, 8); return U32(o) | (ulong)U32(o + 4) << 32; }
        ElfFormatException Bad(string problem) => new ElfFormatException(Name, problem);
    }

    /// <summary>What <see cref="LibTorchSharpGlibcxxPatch.Patch"/> did.</summary>
    internal sealed class GlibcxxPatchResult
    {
        public GlibcxxPatchResult(byte[] bytes, bool changed, string description)
        {
            Bytes = bytes;
            Changed = changed;
            Description = description;
        }

        /// <summary>The patched bytes, or the input array itself when nothing changed.</summary>
        public byte[] Bytes { get; }
        public bool Changed { get; }
        public string Description { get; }
    }

    /// <summary>Marks libLibTorchSharp.so's GLIBCXX_3.4.32 requirement weak, and finds out whether the system needs it.</summary>
    internal static class LibTorchSharpGlibcxxPatch
    {
        public const string LibraryFileName = "libLibTorchSharp.so";
        public const string Version = "GLIBCXX_3.4.32";
        public const string AnchorSymbol = "_ZSt21ios_base_library_initv";
        const string Libstdcxx = "libstdc++.so.6";

        static bool IsLibstdcxx(string file) => file.StartsWith("libstdc++.so", StringComparison.Ordinal);

        /// <summary>Whether the file needs GLIBCXX_3.4.32 from libstdc++ without the weak flag: the loader refuses it
        /// where libstdc++ lacks that version.</summary>
        public static bool HasHardRequirement(ElfFile elf)
        {
            foreach (var need in elf.VersionNeeds)
                if (IsLibstdcxx(need.File) && need.Name == Version && !need.IsWeak) return true;
            return false;
        }

        /// <summary>
        /// Returns a copy with every Vernaux for GLIBCXX_3.4.32 from libstdc++ marked VER_FLG_WEAK and the symbols bound to
        /// it made unversioned (.gnu.version 1, global); an undefined symbol that a relocation refers to also becomes weak,
        /// so that the loader binds it to 0 rather than refusing the library where libstdc++ lacks it. Returns the input
        /// itself (Changed false) when the file does not need that version or was patched already. Throws
        /// <see cref="NotSupportedException"/> when a symbol other than the iostream anchor needs that version: such a
        /// library really needs GCC 13's libstdc++.
        /// </summary>
        public static GlibcxxPatchResult Patch(byte[] original, string name)
        {
            var probe = new ElfFile(original, name);
            var indices = new HashSet<ushort>();
            bool anyNeed = false;
            foreach (var need in probe.VersionNeeds)
            {
                if (!IsLibstdcxx(need.File) || need.Name != Version) continue;
                anyNeed = true;
                indices.Add(need.Index);
            }
            if (!anyNeed)
                return new GlibcxxPatchResult(original, false, name + " does not require " + Version);

            foreach (var sym in probe.DynamicSymbols)
            {
                if (!indices.Contains(sym.VersionIndex) || sym.VersionIndex <= 1) continue;
                if (sym.Name != AnchorSymbol || !sym.IsUndefined)
                    throw new NotSupportedException(name + " needs " + sym.Name + "@" + Version + " from " + Libstdcxx +
                        "; only " + AnchorSymbol + " can do without it. Install a libstdc++ from GCC 13 or newer.");
            }

            var copy = (byte[])original.Clone();
            var elf = new ElfFile(copy, name);
            var done = new List<string>();
            foreach (var need in elf.VersionNeeds)
            {
                if (!IsLibstdcxx(need.File) || need.Name != Version || need.IsWeak) continue;
                elf.WriteU16(need.FlagsOffset, (ushort)(need.Flags | ElfFile.VER_FLG_WEAK));
                done.Add("marked the " + Version + " requirement on " + need.File + " weak (vna_flags |= VER_FLG_WEAK)");
            }
            foreach (var sym in elf.DynamicSymbols)
            {
                if (!indices.Contains(sym.VersionIndex) || sym.VersionIndex <= 1 || sym.VersionOffset < 0) continue;
                elf.WriteU16(sym.VersionOffset, 1);
                done.Add("made " + sym.Name + " unversioned (.gnu.version " + sym.VersionIndex + " -> 1)");
                if (elf.IsRelocated(sym.Index) && sym.Binding == ElfFile.STB_GLOBAL)
                {
                    elf.WriteU8(sym.InfoOffset, (byte)(ElfFile.STB_WEAK << 4 | sym.Info & 0xf));
                    done.Add("made the relocated undefined symbol " + sym.Name + " weak");
                }
            }
            if (done.Count == 0)
                return new GlibcxxPatchResult(original, false, name + " has its " + Version + " requirement marked weak already");
            return new GlibcxxPatchResult(copy, true, name + ": " + string.Join("; ", done.ToArray()));
        }

        /// <summary>Whether a libstdc++ defines GLIBCXX_3.4.32 (.gnu.version_d).</summary>
        public static bool DefinesVersion(string libstdcxxPath)
        {
            foreach (var name in ElfFile.Read(libstdcxxPath).VersionDefinitions)
                if (name == Version) return true;
            return false;
        }

        /// <summary>
        /// The libstdc++.so.6 the dynamic loader gives a library loaded into this process: the one already mapped (the .NET
        /// runtime links it), else the first found in LD_LIBRARY_PATH, the loader cache (ldconfig -p) or the standard
        /// directories. Null when none is found (not Linux, or no libstdc++ at all).
        /// </summary>
        public static string? FindSystemLibstdcxx()
        {
            string? mapped = FromProcMaps();
            if (mapped != null) return mapped;
            string? ld = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
            if (!string.IsNullOrEmpty(ld))
            {
                foreach (var dir in ld!.Split(':'))
                {
                    if (dir.Length == 0) continue;
                    string p = Path.Combine(dir, Libstdcxx);
                    if (File.Exists(p)) return p;
                }
            }
            string? cached = FromLdconfig();
            if (cached != null) return cached;
            foreach (var dir in new[] { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib" })
            {
                string p = Path.Combine(dir, Libstdcxx);
                if (File.Exists(p)) return p;
            }
            return null;
        }

        static string? FromProcMaps()
        {
            try
            {
                if (!File.Exists("/proc/self/maps")) return null;
                foreach (var line in File.ReadAllLines("/proc/self/maps"))
                {
                    int slash = line.IndexOf('/');
                    if (slash < 0) continue;
                    string path = line.Substring(slash).Trim();
                    string file = Path.GetFileName(path);
                    if ((file == Libstdcxx || file.StartsWith(Libstdcxx + ".", StringComparison.Ordinal)) && File.Exists(path)) return path;
                }
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            return null;
        }

        static string? FromLdconfig()
        {
            foreach (var exe in new[] { "/sbin/ldconfig", "/usr/sbin/ldconfig" })
            {
                if (!File.Exists(exe)) continue;
                try
                {
                    var psi = new ProcessStartInfo(exe, "-p") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                    using (var p = Process.Start(psi))
                    {
                        if (p == null) continue;
                        string output = p.StandardOutput.ReadToEnd();
                        p.WaitForExit();
                        // "	libstdc++.so.6 (libc6,x86-64) => /lib/x86_64-linux-gnu/libstdc++.so.6"
                        foreach (var raw in output.Split('\n'))
                        {
                            string line = raw.Trim();
                            if (!line.StartsWith(Libstdcxx + " ", StringComparison.Ordinal)) continue;
                            if (IntPtr.Size == 8 && line.IndexOf("64", StringComparison.Ordinal) < 0) continue;
                            int arrow = line.IndexOf("=> ", StringComparison.Ordinal);
                            if (arrow > 0) return line.Substring(arrow + 3).Trim();
                        }
                    }
                }
                catch (Exception e) when (e is IOException || e is System.ComponentModel.Win32Exception || e is InvalidOperationException) { }
            }
            return null;
        }
    }

#if !MLT_LIBRARY
    /// <summary>
    /// MSBuild task: for each libLibTorchSharp.so given (only read), writes the patched copy to its MltPatchedPath when
    /// the file hard-requires GLIBCXX_3.4.32 and the system's libstdc++ lacks it (Mode auto) or always (Mode true); else
    /// deletes a copy left there by an earlier build, so that the targets use the original. A copy whose bytes are already
    /// right is not rewritten. Writes StampFile last (the targets' incremental marker).
    /// </summary>
    public sealed class MltPatchLibTorchSharp : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Libraries { get; set; } = new Microsoft.Build.Framework.ITaskItem[0];

        /// <summary>auto: only where the system libstdc++ lacks GLIBCXX_3.4.32; true: always.</summary>
        public string Mode { get; set; } = "auto";

        [Microsoft.Build.Framework.Required]
        public string StampFile { get; set; } = "";

        public override bool Execute()
        {
            var patched = new List<string>();
            bool needed = IsNeeded();
            foreach (var item in Libraries)
            {
                string source = Path.GetFullPath(item.ItemSpec);
                string dest = item.GetMetadata("MltPatchedPath");
                if (dest.Length == 0)
                {
                    Log.LogError(Prefix + "item " + item.ItemSpec + " has no MltPatchedPath metadata.");
                    continue;
                }
                try
                {
                    GlibcxxPatchResult? patch = needed ? LibTorchSharpGlibcxxPatch.Patch(File.ReadAllBytes(source), source) : null;
                    if (patch == null || !patch.Changed)
                    {
                        if (patch != null) Log.LogMessage(Low, Prefix + patch.Description + "; used as it is.");
                        if (File.Exists(dest)) File.Delete(dest);
                        continue;
                    }
                    if (!File.Exists(dest) || !SameBytes(File.ReadAllBytes(dest), patch.Bytes))
                    {
                        Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
                        string temp = dest + ".tmp";
                        File.Copy(source, temp, true); // keeps the file mode
                        File.WriteAllBytes(temp, patch.Bytes);
                        if (File.Exists(dest)) File.Delete(dest);
                        File.Move(temp, dest);
                    }
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal, Prefix + patch.Description + " -> " + dest);
                    patched.Add(dest);
                }
                catch (Exception e) when (e is ElfFormatException || e is NotSupportedException || e is IOException || e is UnauthorizedAccessException)
                {
                    Log.LogWarning(null, "MLT0002", null, null, 0, 0, 0, 0, Prefix + "could not patch " + source + ": " + e.Message + " It is used as it is.");
                    try { if (File.Exists(dest)) File.Delete(dest); } catch (IOException) { }
                }
            }
            if (Log.HasLoggedErrors) return false;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(StampFile))!);
            File.WriteAllLines(StampFile, patched.ToArray());
            return true;
        }

        const string Prefix = "Microsoft.ML.Transformers: ";
        static readonly Microsoft.Build.Framework.MessageImportance Low = Microsoft.Build.Framework.MessageImportance.Low;

        bool IsNeeded()
        {
            if (string.Equals(Mode, "true", StringComparison.OrdinalIgnoreCase)) return true;
            string? libstdcxx = LibTorchSharpGlibcxxPatch.FindSystemLibstdcxx();
            if (libstdcxx == null)
            {
                Log.LogMessage(Low, Prefix + "no libstdc++.so.6 found; " + LibTorchSharpGlibcxxPatch.LibraryFileName + " is used as it is.");
                return false;
            }
            try
            {
                if (LibTorchSharpGlibcxxPatch.DefinesVersion(libstdcxx))
                {
                    Log.LogMessage(Low, Prefix + libstdcxx + " has " + LibTorchSharpGlibcxxPatch.Version + "; " + LibTorchSharpGlibcxxPatch.LibraryFileName + " is used as it is.");
                    return false;
                }
            }
            catch (Exception e) when (e is ElfFormatException || e is IOException || e is UnauthorizedAccessException)
            {
                Log.LogWarning(null, "MLT0001", null, null, 0, 0, 0, 0, Prefix + "could not read the system libstdc++: " + e.Message + " " + LibTorchSharpGlibcxxPatch.LibraryFileName + " is used as it is.");
                return false;
            }
            Log.LogMessage(Low, Prefix + libstdcxx + " lacks " + LibTorchSharpGlibcxxPatch.Version + ".");
            return true;
        }

        static bool SameBytes(byte[] a, byte[] b)
        {
            if (a.Length != b.Length) return false;
            for (int i = 0; i < a.Length; i++)
                if (a[i] != b[i]) return false;
            return true;
        }
    }
#endif
}
