# Installation and the Debian package (make package): /usr/bin/osrc-node, osrc-hub and osrc-gen,
# their man pages (help2man over --help at build time), the systemd units, the sysusers.d entry of
# the user osrc and the maintainer scripts of packaging/. Dependencies are computed by
# dpkg-shlibdeps. `make package` builds first, so installing never rebuilds (the package test runs
# cpack beside running tests).
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY TRUE)
set(OSRC_PACKAGED_PROGRAMS osrc-node osrc-hub osrc-gen)

install(TARGETS ${OSRC_PACKAGED_PROGRAMS} RUNTIME DESTINATION bin)
install(FILES packaging/osrc-node.service packaging/osrc-hub.service
  DESTINATION lib/systemd/system)
install(FILES packaging/sysusers.conf DESTINATION lib/sysusers.d RENAME osrc-sync.conf)
install(FILES README.md DESTINATION share/doc/osrc-sync)
install(DIRECTORY config/examples/ DESTINATION share/doc/osrc-sync/examples
  FILES_MATCHING PATTERN "*.csv" PATTERN "*.yml")

find_program(HELP2MAN help2man)
if(HELP2MAN)
  set(man_dir ${CMAKE_BINARY_DIR}/man)
  set(man_pages)
  set(osrc-node_summary "OSRC site node: offline store, sync with the hub")
  set(osrc-hub_summary "OSRC hub: merges site changes, serves reference data")
  set(osrc-gen_summary "deterministic OSRC sample records as JSON Lines")
  foreach(program ${OSRC_PACKAGED_PROGRAMS})
    set(help_option --help)
    if(program STREQUAL osrc-node OR program STREQUAL osrc-hub)
      set(help_option --help-all)  # every subcommand's options, not just their names
    endif()
    add_custom_command(OUTPUT ${man_dir}/${program}.1.gz
      COMMAND ${CMAKE_COMMAND} -E make_directory ${man_dir}
      COMMAND ${HELP2MAN} --no-info --section=1 --help-option=${help_option}
        --name=${${program}_summary}
        --output=${man_dir}/${program}.1 $<TARGET_FILE:${program}>
      COMMAND gzip -9nf ${man_dir}/${program}.1
      DEPENDS ${program}
      COMMENT "Man page of ${program}"
      VERBATIM)
    list(APPEND man_pages ${man_dir}/${program}.1.gz)
  endforeach()
  add_custom_target(osrc_man_pages ALL DEPENDS ${man_pages})
  install(FILES ${man_pages} DESTINATION share/man/man1)
else()
  message(WARNING "help2man not found: no man pages, and the package test is left out "
    "(make deps installs it)")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME osrc-sync)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_CONTACT "osrc-sync maintainers <maintainers@users.noreply.r-seed-b5d207b7.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "OSRC participant databases kept in step: site node and hub")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "osrc-sync keeps the participant databases of the One-Stop Migrant Resource Centres in step.\n\
Each provincial centre runs a site node (osrc-node) with its own store that works offline and\n\
syncs its changes with the hub (osrc-hub) whenever the link is up. Ships both daemons as\n\
systemd services (osrc-node.service, osrc-hub.service) running as the user osrc, and osrc-gen\n\
for sample data.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_SOURCE_DIR}/packaging/postinst ${CMAKE_SOURCE_DIR}/packaging/prerm
  ${CMAKE_SOURCE_DIR}/packaging/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
