#!/usr/bin/env python3
"""Turn a file into a C source defining its bytes and their count:

    embed-binary.py INPUT OUTPUT NAME

defines `const unsigned char NAME[]` and `const size_t NAME_size`.
"""
import sys


def main():
    src, dst, name = sys.argv[1:4]
    data = open(src, 'rb').read()
    with open(dst, 'w') as out:
        out.write('/* Generated from %s by scripts/embed-binary.py. */\n'
                  % src.rsplit('/', 1)[-1])
        out.write('#include <stddef.h>\n\n')
        out.write('extern const unsigned char %s[];\n' % name)
        out.write('extern const size_t %s_size;\n\n' % name)
        out.write('const unsigned char %s[] = {\n' % name)
        for i in range(0, len(data), 12):
            out.write('    %s\n' % ' '.join('0x%02x,' % b
                                           for b in data[i:i + 12]))
        out.write('};\n')
        out.write('const size_t %s_size = %d;\n' % (name, len(data)))


if __name__ == '__main__':
    main()
