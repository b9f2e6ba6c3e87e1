# Install rules and the Debian package (deploy/package.sh builds it):
# havend, havenctl and haven-console with its pages, the systemd unit, the system user, a sample config
# and the documentation. Runtime dependencies come from dpkg-shlibdeps, so
# they are Debian's runtime library packages, never the -dev ones.
include(GNUInstallDirs)

install(TARGETS havend havenctl haven-console
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The console's pages, beside the binary (haven-console --static-dir).
install(DIRECTORY client/console/static/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/haven/console)
install(FILES deploy/systemd/havend.service DESTINATION lib/systemd/system)
install(FILES deploy/package/haven.sysusers DESTINATION lib/sysusers.d
        RENAME haven.conf)
install(FILES deploy/package/node.textproto.example
        DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/haven)
install(FILES README.md SECURITY.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME haven)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "Haven maintainers <haven@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Haven node: need-to-know data exchange for anti-trafficking task forces")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "systemd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/deploy/package/postinst
    ${PROJECT_SOURCE_DIR}/deploy/package/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
